package dev.salvo.cli;

import dev.salvo.device.Devices;
import dev.salvo.nn.NetworkJson;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Checkpoint;
import dev.salvo.train.DataParallel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** What the ranks of a data-parallel job compare at start-up, and what its summary records. */
final class Facts {

    /** Options that may differ between ranks: where each rank reads from and writes to. */
    private static final java.util.Set<String> PER_RANK = java.util.Set.of("--data-dir", "--checkpoint-every");

    private static String build;

    private Facts() {
    }

    /**
     * The facts every rank must share: Salvo's build, the network, the data, the options that shape
     * training, the device's provider and the checkpoint resumed from.
     */
    static Map<String, String> ofRun(Map<String, String> options, NetworkSpec net, String dataSha256, Checkpoint.Snapshot resumed,
                                     DistributedOptions dist, int lossEvery, Devices.Selector device) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("Salvo build", build());
        f.put("network", sha256(NetworkJson.write(net).getBytes(StandardCharsets.UTF_8)).substring(0, 16) + " " + net.describe());
        f.put("data", dataSha256 == null ? "none" : dataSha256);
        Map<String, String> sorted = new TreeMap<>();
        options.forEach((k, v) -> {
            String name = k.substring(k.indexOf(':') + 1);
            if (!PER_RANK.contains(name)) {
                sorted.put(name, v);
            }
        });
        sorted.forEach((k, v) -> f.put("option " + k, v));
        f.put("option --loss-every", Integer.toString(lossEvery));
        f.put("option --bucket-mb", Double.toString(dist.bucketMb));
        f.put("option --all-reduce", dist.allReduce());
        f.put("device provider", device.provider());
        f.put("resumed from step", resumed == null ? "none" : Long.toString(resumed.step()));
        return f;
    }

    /** The version and the SHA-256 of the jar (or class folder) Salvo runs from. */
    static synchronized String build() {
        if (build == null) {
            String v = Main.class.getPackage().getImplementationVersion();
            String where = "";
            try {
                Path p = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                if (Files.isRegularFile(p)) {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    try (InputStream in = Files.newInputStream(p)) {
                        byte[] buf = new byte[1 << 16];
                        for (int n; (n = in.read(buf)) > 0; ) {
                            md.update(buf, 0, n);
                        }
                    }
                    where = " jar sha256 " + HexFormat.of().formatHex(md.digest()).substring(0, 16);
                }
            } catch (IOException | java.net.URISyntaxException | NoSuchAlgorithmException | SecurityException e) {
                where = " (jar not hashed: " + e.getMessage() + ")";
            }
            build = (v == null ? "dev" : v) + where;
        }
        return build;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The data-parallel part of summary.json. */
    static Map<String, Object> summary(DataParallel dp, DistributedRun job) {
        DataParallel.Stats s = dp.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ranks", s.ranks());
        m.put("all_reduce", dp.path());
        m.put("steps", s.steps());
        m.put("bucket_floats", s.bucketFloats());
        m.put("allreduce_seconds", s.allReduceSeconds());
        m.put("exposed_seconds", s.exposedSeconds());
        m.put("overlap_share", s.overlapShare());
        return m;
    }
}
