package dev.salvo.nn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Where each parameter tensor lives in the one flat parameter buffer. Tensors are named
 * {@code layers.<i>.weight} ({@code (out,in)}, row-major, PyTorch {@code nn.Linear} layout) and
 * {@code layers.<i>.bias} ({@code (out)}), {@code i} the layer's index in the spec. Each tensor
 * starts on a multiple of {@link #ALIGN} floats; padding holds zeros and stays zero under every
 * optimizer. Gradients and optimizer state use the same layout, so one optimizer launch updates
 * the whole network.
 */
public record ParamLayout(List<Tensor> tensors, int size) {

    public static final int ALIGN = 16;

    /** One tensor: name, shape and element offset in the flat buffer. */
    public record Tensor(String name, int[] shape, int offset) {
        public int length() {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    public static ParamLayout of(NetworkSpec spec) {
        List<Tensor> t = new ArrayList<>();
        long off = 0;
        int in = spec.inputs();
        for (int i = 0; i < spec.layers().size(); i++) {
            if (spec.layers().get(i) instanceof LayerSpec.Dense d) {
                t.add(new Tensor("layers." + i + ".weight", new int[] {d.units(), in}, (int) off));
                off = align(off + (long) d.units() * in);
                t.add(new Tensor("layers." + i + ".bias", new int[] {d.units()}, (int) off));
                off = align(off + d.units());
                in = d.units();
                if (off > Integer.MAX_VALUE - ALIGN) {
                    throw new IllegalArgumentException("network too large: more than 2^31 parameters");
                }
            }
        }
        return new ParamLayout(t, (int) off);
    }

    private static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Parameters without padding. */
    public long count() {
        long n = 0;
        for (Tensor t : tensors) {
            n += t.length();
        }
        return n;
    }

    public Tensor tensor(String name) {
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("no tensor " + name);
    }

    /** SHA-256 over the tensors in order, each as little-endian float32 without padding. */
    public String sha256(float[] flat) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer bb = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                for (int k = 0; k < t.length(); k++) {
                    if (!bb.hasRemaining()) {
                        md.update(bb.array(), 0, bb.position());
                        bb.clear();
                    }
                    bb.putFloat(flat[t.offset() + k]);
                }
            }
            md.update(bb.array(), 0, bb.position());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
