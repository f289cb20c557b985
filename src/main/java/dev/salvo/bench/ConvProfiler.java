package dev.salvo.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.nn.Layer;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.layer.Conv2d;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times the conv2d layers of a network while it trains on a {@link TimingDevice}: {@link #wrap}
 * returns the same network with each {@link Conv2d} inside a layer that delegates everything to it
 * (shapes, parameters, JSON, the device calls of its passes) and adds the wall time of each forward
 * and backward pass, and the matmul seconds the {@link TimingDevice} accounted inside it, to that
 * layer's account. Since the timing device synchronizes after every op, a pass's wall time is the
 * device time of its own calls ({@code conv.im2col}, the products, {@code tensor.swap01},
 * {@code conv.col2im}) plus one synchronize per call; nothing queued before it is counted.
 *
 * <p>Used by {@code salvo bench} for its profiling pass only, never for the timed passes. The
 * wrapped network has the same parameter layout and initial parameters as the original.
 */
public final class ConvProfiler {

    /** One conv2d layer's account. */
    private static final class Account {
        final String name;
        final Conv2d conv;
        int[] in;
        int[] out;
        boolean inputGradient;
        final Samples forward = new Samples();
        final Samples backward = new Samples();

        Account(String name, Conv2d conv) {
            this.name = name;
            this.conv = conv;
        }

        double forwardFlops(int rows) {
            return BenchResults.Conv.forwardFlops(rows, in[0], out[0], out[1], out[2], conv.kernel());
        }
    }

    /** Per-call GFLOP/s, and the totals of wall and matmul seconds. */
    private static final class Samples {
        double[] gflops = new double[64];
        int n;
        double seconds;
        double matmulSeconds;

        void add(double flops, double secs, double mm) {
            if (n == gflops.length) {
                gflops = Arrays.copyOf(gflops, 2 * n);
            }
            gflops[n++] = flops / Math.max(secs, 1e-12) / 1e9;
            seconds += secs;
            matmulSeconds += mm;
        }
    }

    private final TimingDevice timing;
    private final List<Account> accounts = new ArrayList<>();

    /** A profiler of the conv layers run on {@code timing}. */
    public ConvProfiler(TimingDevice timing) {
        this.timing = timing;
    }

    /**
     * {@code spec} with every conv2d layer timed (the same names, inputs, loss and init); the
     * accounts start empty. A network without conv2d layers comes back equal and nothing is timed.
     */
    public NetworkSpec wrap(NetworkSpec spec) {
        accounts.clear();
        NetworkSpec.Builder b = NetworkSpec.input(spec.inputShape());
        List<NetworkSpec.Vertex> vs = spec.vertices();
        for (NetworkSpec.Vertex v : vs) {
            Layer l = v.layer();
            if (l instanceof Conv2d c) {
                Account a = new Account(v.name(), c);
                accounts.add(a);
                l = new Timed(c, a);
            }
            String[] from = new String[v.inputs().length];
            for (int k = 0; k < from.length; k++) {
                int u = v.inputs()[k];
                from[k] = u == NetworkSpec.INPUT ? "input" : vs.get(u).name();
            }
            b.add(v.name(), l, from);
        }
        return b.loss(spec.loss()).init(spec.init()).build();
    }

    /** Whether the wrapped network has conv2d layers. */
    public boolean hasConv() {
        return !accounts.isEmpty();
    }

    /** Forgets every timed call (the layers stay wrapped). */
    public void reset() {
        for (Account a : accounts) {
            a.forward.n = 0;
            a.forward.seconds = 0;
            a.forward.matmulSeconds = 0;
            a.backward.n = 0;
            a.backward.seconds = 0;
            a.backward.matmulSeconds = 0;
        }
    }

    /**
     * One row per conv2d layer that ran forward and backward at least once since {@link #reset()}:
     * GFLOP/s per call (each call's own rows), the matmul shares, at a full batch of {@code batch}.
     */
    public List<BenchResults.Conv> results(String source, String model, int batch) {
        List<BenchResults.Conv> rows = new ArrayList<>();
        for (Account a : accounts) {
            if (a.in == null || a.forward.n == 0 || a.backward.n == 0) {
                continue;
            }
            double fwd = a.forwardFlops(batch);
            rows.add(new BenchResults.Conv(source, model, a.name, batch, a.in[0], a.in[1], a.in[2], a.out[0],
                    a.conv.kernel(), a.conv.stride(), a.conv.pad(), a.out[1], a.out[2], a.inputGradient, fwd,
                    fwd * (a.inputGradient ? 2 : 1), Stats.of(Arrays.copyOf(a.forward.gflops, a.forward.n)),
                    Stats.of(Arrays.copyOf(a.backward.gflops, a.backward.n)),
                    a.forward.matmulSeconds / Math.max(a.forward.seconds, 1e-12),
                    a.backward.matmulSeconds / Math.max(a.backward.seconds, 1e-12), METHOD));
        }
        return rows;
    }

    /** How the rows of {@link #results} were measured (bench.json's {@code method}). */
    public static final String METHOD = "each call of the layer's forward and backward pass in a synchronized profiling"
            + " pass of training steps (TimingDevice: every op waited for), im2col/col2im and layout swaps included";

    /** A conv2d layer whose passes are timed; everything else is the layer's own. */
    private final class Timed implements Layer {
        private final Conv2d inner;
        private final Account account;

        Timed(Conv2d inner, Account account) {
            this.inner = inner;
            this.account = account;
        }

        @Override
        public String type() {
            return inner.type();
        }

        @Override
        public int arity() {
            return inner.arity();
        }

        @Override
        public int[] outputShape(int[][] in) {
            return inner.outputShape(in);
        }

        @Override
        public void declare(int[][] in, Declarations d) {
            inner.declare(in, d);
        }

        @Override
        public boolean isView() {
            return inner.isView();
        }

        @Override
        public boolean fusesIntoCrossEntropy() {
            return inner.fusesIntoCrossEntropy();
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public String compact() {
            return inner.compact();
        }

        @Override
        public void toJson(ObjectNode n) {
            inner.toJson(n);
        }

        @Override
        public Runtime bind(Binding b) {
            Runtime r = inner.bind(b);
            account.in = b.inShape(0);
            account.out = b.outShape();
            account.inputGradient = b.dx(0) != null;
            Device d = b.device();
            return rows -> {
                Pass p = r.pass(rows);
                double flops = account.forwardFlops(rows);
                double backFlops = flops * (account.inputGradient ? 2 : 1);
                return new Pass() {
                    @Override
                    public void forward() {
                        d.synchronize();
                        double mm = timing.seconds(TimingDevice.Kind.MATMUL);
                        long t0 = System.nanoTime();
                        p.forward();
                        d.synchronize();
                        double secs = (System.nanoTime() - t0) / 1e9;
                        account.forward.add(flops, secs, timing.seconds(TimingDevice.Kind.MATMUL) - mm);
                    }

                    @Override
                    public void backward() {
                        d.synchronize();
                        double mm = timing.seconds(TimingDevice.Kind.MATMUL);
                        long t0 = System.nanoTime();
                        p.backward();
                        d.synchronize();
                        double secs = (System.nanoTime() - t0) / 1e9;
                        account.backward.add(backFlops, secs, timing.seconds(TimingDevice.Kind.MATMUL) - mm);
                    }
                };
            };
        }
    }
}
