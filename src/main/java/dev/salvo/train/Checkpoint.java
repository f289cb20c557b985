package dev.salvo.train;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.io.AtomicFile;
import dev.salvo.util.InputFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint: everything needed to continue a run so that the result is bitwise the
 * same as a run that never stopped (on the same device): parameters, optimizer state, schedule
 * position (global step, optimizer step), epoch and step within it, the epoch's data order, the
 * host RNG state, the history so far and the early-stopping state.
 *
 * <p>File format ({@code checkpoint.bin}): the 8 ASCII bytes {@code SALVOCK1}; a big-endian int
 * {@code n} and {@code n} bytes of UTF-8 JSON (every scalar, the order and the history); then
 * float arrays, each a big-endian int count followed by that many little-endian float32 values:
 * parameters, each optimizer state buffer, the best parameters when early stopping is on, and the
 * model's state (batch-norm running statistics) when it has any;
 * then the checksum: the 8 ASCII bytes {@code SALVOSUM} and the 32-byte SHA-256 of every byte
 * before them. Saved with {@link AtomicFile}: a process killed during a save leaves the previous
 * checkpoint.
 *
 * <p>{@link #load} verifies the checksum before it reads anything else (a file that ends without
 * it, written before checksums existed, is read unverified), then refuses non-finite parameters,
 * optimizer state or best parameters. Every error is one line naming the file.
 */
public final class Checkpoint {

    static final byte[] MAGIC = "SALVOCK1".getBytes(StandardCharsets.US_ASCII);
    /** Opens the trailing checksum: these 8 bytes, then the SHA-256 of everything before them. */
    static final byte[] SUM_TAG = "SALVOSUM".getBytes(StandardCharsets.US_ASCII);
    static final int TRAILER = 8 + 32;
    public static final String FILE = "checkpoint.bin";
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Checkpoint() {
    }

    /** Where and how often to save: every {@code everySteps} optimizer steps and, when asked, at each epoch's end. */
    public record Policy(Path dir, int everySteps, boolean atEpochEnd) {
        public Policy {
            if (everySteps < 1) {
                throw new IllegalArgumentException("--checkpoint-every must be at least 1 step, got " + everySteps);
            }
        }

        public Path file() {
            return dir.resolve(FILE);
        }
    }

    /** Scalars of a checkpoint (the JSON part). */
    record Meta(String network, long seed, int batchSize, int epoch, int stepInEpoch, long step, long samples,
                double lr, double lossSum, int lossCount, double epochSeconds, double bestLoss, int sinceBest,
                long[] rngState, int[] order, List<EpochStats> history, List<String> epochDevices,
                Map<String, String> info, int stateBuffers, boolean hasBest, boolean hasModelState) {
    }

    /**
     * Everything in a checkpoint.
     *
     * @param batchSize    the batch size it was trained with: a resume must use the same, since
     *                     the step counters and the data order are counted in its batches
     * @param epochDevices the device id of each epoch of {@code history}
     * @param info         what the caller asked to keep with it ({@link Trainer#checkpointInfo}):
     *                     the command line keeps its options, run folder and data fingerprint here
     * @param modelState   the model's non-trainable state (batch-norm running statistics); empty when it has none
     */
    public record Snapshot(String network, long seed, int batchSize, int epoch, int stepInEpoch, long step, long samples,
                           double lr, double lossSum, int lossCount, double epochSeconds,
                           double bestLoss, int sinceBest, long[] rngState, int[] order, List<EpochStats> history,
                           List<String> epochDevices, Map<String, String> info,
                           float[] parameters, List<float[]> optimizerState, float[] best, float[] modelState) {
        public Snapshot {
            epochDevices = epochDevices == null ? List.of() : List.copyOf(epochDevices);
            info = info == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(info));
        }
    }

    public static void save(Path file, Snapshot s) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            // infinities are not JSON: store the best loss as a string
            Meta m = new Meta(s.network(), s.seed(), s.batchSize(), s.epoch(), s.stepInEpoch(), s.step(), s.samples(),
                    s.lr(), s.lossSum(), s.lossCount(), s.epochSeconds(), s.bestLoss(), s.sinceBest(), s.rngState(), s.order(),
                    s.history(), s.epochDevices(), s.info(), s.optimizerState().size(), s.best() != null,
                    s.modelState() != null && s.modelState().length > 0);
            byte[] json = JSON.writeValueAsBytes(m);
            AtomicFile.write(file, out -> {
                MessageDigest md = sha256();
                DataOutputStream d = new DataOutputStream(new BufferedOutputStream(new DigestOutputStream(out, md), 1 << 16));
                d.write(MAGIC);
                d.writeInt(json.length);
                d.write(json);
                writeFloats(d, s.parameters());
                for (float[] a : s.optimizerState()) {
                    writeFloats(d, a);
                }
                if (s.best() != null) {
                    writeFloats(d, s.best());
                }
                if (s.modelState() != null && s.modelState().length > 0) {
                    writeFloats(d, s.modelState());
                }
                d.flush();
                out.write(SUM_TAG);
                out.write(md.digest());
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot save checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Test hook: a checkpoint of this JSON and these raw array bytes (count-prefixed arrays, as {@link #save} writes them). */
    static void writeRaw(Path file, byte[] json, byte[] arrays) throws IOException {
        AtomicFile.write(file, out -> {
            DataOutputStream d = new DataOutputStream(out);
            d.write(MAGIC);
            d.writeInt(json.length);
            d.write(json);
            d.write(arrays);
            d.flush();
            MessageDigest md = sha256();
            md.update(MAGIC);
            md.update(ByteBuffer.allocate(4).putInt(json.length).array());
            md.update(json);
            md.update(arrays);
            out.write(SUM_TAG);
            out.write(md.digest());
        });
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    /**
     * The length of the checkpoint proper: the file less its checksum trailer, after the checksum
     * was verified; the whole file when it has no trailer (a checkpoint from before checksums).
     */
    private static long verifiedLength(Path f) throws IOException {
        long size = Files.size(f);
        if (size < TRAILER) {
            return size;
        }
        byte[] tail = new byte[TRAILER];
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.wrap(tail);
            long pos = size - TRAILER;
            while (bb.hasRemaining()) {
                int r = ch.read(bb, pos);
                if (r < 0) {
                    throw new EOFException();
                }
                pos += r;
            }
        }
        if (!Arrays.equals(Arrays.copyOf(tail, 8), SUM_TAG)) {
            return size;
        }
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            long left = size - TRAILER;
            while (left > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    throw new EOFException();
                }
                md.update(buf, 0, r);
                left -= r;
            }
        }
        if (!MessageDigest.isEqual(md.digest(), Arrays.copyOfRange(tail, 8, TRAILER))) {
            throw new IllegalArgumentException(f + ": byte " + (size - 32) + ": the checkpoint does not match its SHA-256: "
                    + "the file was damaged or changed after it was written");
        }
        return size - TRAILER;
    }

    private static void writeFloats(DataOutputStream d, float[] a) throws IOException {
        d.writeInt(a.length);
        ByteBuffer bb = ByteBuffer.allocate(4 * 8192).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < a.length; i += 8192) {
            bb.clear();
            int n = Math.min(8192, a.length - i);
            bb.asFloatBuffer().put(a, i, n);
            d.write(bb.array(), 0, 4 * n);
        }
    }

    /**
     * Loads {@code file} (or {@code file/checkpoint.bin} when it is a directory).
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static Snapshot load(Path file) {
        Path f = Files.isDirectory(file) ? file.resolve(FILE) : file;
        if (!Files.exists(f)) {
            throw new IllegalArgumentException("--resume: no checkpoint at " + f);
        }
        try (InputStream in = InputFiles.open("--resume", f)) {
            long size = verifiedLength(f);
            DataInputStream d = new DataInputStream(new BufferedInputStream(limit(in, size), 1 << 16));
            byte[] magic = new byte[MAGIC.length];
            d.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IllegalArgumentException(f + ": byte 0: not a Salvo checkpoint (expected SALVOCK1)");
            }
            int n = d.readInt();
            if (n < 2 || n > size) {
                throw new IllegalArgumentException(f + ": byte 8: header length " + n + " does not fit the file (" + size + " bytes)");
            }
            byte[] json = new byte[n];
            d.readFully(json);
            Meta m = meta(f, json);
            long budget = size - 12 - n;
            float[] params = readFloats(d, f, budget);
            budget -= 4 + 4L * params.length;
            List<float[]> state = new ArrayList<>();
            for (int i = 0; i < m.stateBuffers(); i++) {
                float[] a = readFloats(d, f, budget);
                budget -= 4 + 4L * a.length;
                state.add(a);
            }
            float[] best = m.hasBest() ? readFloats(d, f, budget) : null;
            budget -= best == null ? 0 : 4 + 4L * best.length;
            float[] modelState = m.hasModelState() ? readFloats(d, f, budget) : new float[0];
            if (d.read() != -1) {
                throw new IllegalArgumentException(f + ": data after the last array");
            }
            requireFinite(f, "parameters", params);
            for (int i = 0; i < state.size(); i++) {
                requireFinite(f, "optimizer state " + i, state.get(i));
            }
            if (best != null) {
                requireFinite(f, "best parameters", best);
            }
            requireFinite(f, "model state (running statistics)", modelState);
            return new Snapshot(m.network(), m.seed(), m.batchSize(), m.epoch(), m.stepInEpoch(), m.step(), m.samples(),
                    m.lr(), m.lossSum(), m.lossCount(), m.epochSeconds(), m.bestLoss(), m.sinceBest(), m.rngState(), m.order(),
                    m.history(), m.epochDevices(), m.info(), params, state, best, modelState);
        } catch (EOFException e) {
            throw new IllegalArgumentException(f + ": truncated checkpoint", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": unreadable checkpoint: " + e.getMessage(), e);
        }
    }

    /** The JSON part; an error is one line: the file, the field (or byte) and Jackson's message without its source excerpt. */
    private static Meta meta(Path f, byte[] json) {
        try {
            return JSON.readValue(json, Meta.class);
        } catch (JsonProcessingException e) {
            StringBuilder field = new StringBuilder();
            if (e instanceof JsonMappingException jm) {
                for (JsonMappingException.Reference r : jm.getPath()) {
                    if (r.getFieldName() != null) {
                        field.append(field.length() == 0 ? "" : ".").append(r.getFieldName());
                    } else if (r.getIndex() >= 0) {
                        field.append('[').append(r.getIndex()).append(']');
                    }
                }
            }
            JsonLocation loc = e.getLocation();
            String where = field.length() > 0 ? "JSON field " + field
                    : "byte " + (12 + (loc == null || loc.getByteOffset() < 0 ? 0 : loc.getByteOffset())) + " (JSON)";
            String msg = String.valueOf(e.getOriginalMessage()).replaceAll("\\s+", " ");
            throw new IllegalArgumentException(f + ": " + where + ": " + (msg.length() > 160 ? msg.substring(0, 157) + "..." : msg), e);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte array does not fail to read
        }
    }

    private static void requireFinite(Path f, String what, float[] a) {
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                throw new IllegalArgumentException(f + ": " + what + " element " + i + " is " + a[i]
                        + ": a checkpoint must hold finite values (training keeps the last good weights)");
            }
        }
    }

    /** {@code in} cut off after {@code n} bytes. */
    private static InputStream limit(InputStream in, long n) {
        return new java.io.FilterInputStream(in) {
            private long left = n;

            @Override
            public int read() throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int b = super.read();
                if (b >= 0) {
                    left--;
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int r = super.read(b, off, (int) Math.min(len, left));
                if (r > 0) {
                    left -= r;
                }
                return r;
            }

            @Override
            public long skip(long k) throws IOException {
                long r = super.skip(Math.min(k, left));
                left -= r;
                return r;
            }

            @Override
            public int available() throws IOException {
                return (int) Math.min(super.available(), left);
            }
        };
    }

    private static float[] readFloats(DataInputStream d, Path f, long budget) throws IOException {
        int n = d.readInt();
        if (n < 0 || 4L * n > budget) {
            throw new IllegalArgumentException(f + ": an array of " + n + " floats does not fit in the file");
        }
        float[] a = new float[n];
        byte[] buf = new byte[4 * 8192];
        for (int i = 0; i < n; i += 8192) {
            int k = Math.min(8192, n - i);
            d.readFully(buf, 0, 4 * k);
            ByteBuffer.wrap(buf, 0, 4 * k).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a, i, k);
        }
        return a;
    }
}
