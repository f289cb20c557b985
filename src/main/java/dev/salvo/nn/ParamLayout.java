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
 * {@code <layer name>.<tensor>}, the layer name {@code layers.<i>} unless the network names it:
 * {@code layers.<i>.weight} ({@code (out,in)} for dense, PyTorch's {@code nn.Linear} layout;
 * {@code (OC,C,kh,kw)} for conv2d) and {@code layers.<i>.bias}, in the order the layers declare them. Each tensor
 * starts on a multiple of {@link #ALIGN} floats; padding holds zeros and stays zero under every
 * optimizer. Gradients and optimizer state use the same layout, so one optimizer launch updates
 * the whole network.
 */
public record ParamLayout(List<Tensor> tensors, int size) {

    public static final int ALIGN = 16;

    /** One tensor: name, shape and element offset in the flat buffer. */
    public record Tensor(String name, int[] shape, int offset, Layer.ParamInit init) {
        public int length() {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The trainable parameters of {@code spec}, in graph order as each layer declares them. */
    public static ParamLayout of(NetworkSpec spec) {
        return build(spec, false);
    }

    /**
     * The non-trainable state of {@code spec} (batch-norm running statistics), named like
     * parameters ({@code layers.<i>.running_mean}); empty for most networks.
     */
    public static ParamLayout stateOf(NetworkSpec spec) {
        return build(spec, true);
    }

    private static ParamLayout build(NetworkSpec spec, boolean state) {
        List<Tensor> t = new ArrayList<>();
        long[] off = {0};
        for (NetworkSpec.Vertex v : spec.vertices()) {
            int[][] in = new int[v.inputs().length][];
            for (int k = 0; k < in.length; k++) {
                in[k] = v.inputs()[k] == NetworkSpec.INPUT ? spec.inputShape() : spec.vertices().get(v.inputs()[k]).shape();
            }
            String prefix = v.name() + ".";
            v.layer().declare(in, new Layer.Declarations() {
                @Override
                public void param(String name, int[] shape, Layer.ParamInit init) {
                    if (!state) {
                        add(prefix + name, shape, init);
                    }
                }

                @Override
                public void state(String name, int[] shape, double initialValue) {
                    if (state) {
                        add(prefix + name, shape, new Layer.ParamInit.Constant(initialValue));
                    }
                }

                private void add(String name, int[] shape, Layer.ParamInit init) {
                    Tensor x = new Tensor(name, shape.clone(), (int) off[0], init);
                    t.add(x);
                    off[0] = align(off[0] + x.length());
                    if (off[0] > Integer.MAX_VALUE - ALIGN) {
                        throw new IllegalArgumentException("network too large: more than 2^31 parameters");
                    }
                }
            });
        }
        return new ParamLayout(t, (int) off[0]);
    }

    /** Initial parameters for {@code spec} from {@code seed}: He or Xavier weights in layer order (host RNG), constants elsewhere. */
    public static float[] initialParameters(NetworkSpec spec, long seed) {
        ParamLayout layout = of(spec);
        float[] p = new float[layout.size()];
        dev.salvo.util.Rng rng = new dev.salvo.util.Rng(seed);
        for (Tensor t : layout.tensors()) {
            if (t.init() instanceof Layer.ParamInit.Weights w) {
                Init init = spec.init().resolve(w.activation());
                double std = Math.sqrt(2.0 / w.fanIn());
                double limit = Math.sqrt(6.0 / (w.fanIn() + w.fanOut()));
                for (int k = 0; k < t.length(); k++) {
                    double v = init == Init.HE ? std * rng.nextGaussian() : limit * (2 * rng.nextDouble() - 1);
                    p[t.offset() + k] = (float) v;
                }
            } else if (t.init() instanceof Layer.ParamInit.Normal nrm) {
                for (int k = 0; k < t.length(); k++) {
                    p[t.offset() + k] = (float) (nrm.std() * rng.nextGaussian());
                }
            } else if (t.init() instanceof Layer.ParamInit.Constant c) {
                java.util.Arrays.fill(p, t.offset(), t.offset() + t.length(), (float) c.value());
            }
        }
        return p;
    }

    /** Every tensor at its constant initial value (state: running means 0, variances 1). */
    public float[] initialValues() {
        float[] s = new float[size];
        for (Tensor t : tensors) {
            if (t.init() instanceof Layer.ParamInit.Constant c) {
                java.util.Arrays.fill(s, t.offset(), t.offset() + t.length(), (float) c.value());
            }
        }
        return s;
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
