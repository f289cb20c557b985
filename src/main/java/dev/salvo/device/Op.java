package dev.salvo.device;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * One declared op: everything the runtime knows about it, written once. A declaration names its
 * kernel family ({@code kernels/<family>.kernel}) and entry point, its signature (scalars and
 * buffers in kernel-argument order), the elements each buffer must hold, its launch shape, its
 * float64 reference, its tolerance and the sample inputs the tests draw. From it:
 * <ul>
 * <li>{@link Device#run} checks and launches a call on any provider (the kernel providers pass
 * the arguments in declaration order, a buffer as pointer plus element offset);</li>
 * <li>the reference device runs {@link #reference};</li>
 * <li>the device contract and {@code salvo check} compare every provider with the reference on
 * {@link #samples} within {@link #tolerance} ({@link OpCheck});</li>
 * <li>the timing device accounts each op by name.</li>
 * </ul>
 * The CPU provider's body of op {@code x} of family {@code f} lives in the CPU family class of
 * {@code f} (see the CPU provider's {@code CpuOps}). Adding an op is its declaration, its CPU
 * body and its kernel.
 *
 * <p>Signature syntax: comma-separated {@code kind name} pairs with kinds {@code int} (a 32-bit
 * scalar), {@code real} (a float scalar on float32 devices), {@code in}/{@code out}/{@code inout}
 * (float buffers) and {@code iin}/{@code iout} (int buffers). A buffer kind ending in {@code ?}
 * ({@code in? bias}) is optional: a call may pass {@code null} where {@link #lengths} asks for no
 * elements of it (the kernel then gets a dummy buffer, the CPU body and the reference a null array).
 *
 * <p>The launch shape may depend on the device's tunables ({@link Launch}): a kernel provider asks
 * {@link #global(int[], Launch)}, {@link #local(int[], Launch)} and {@link #entry(int[], Launch)}.
 */
public abstract class Op {

    /** What a parameter is. */
    public enum Kind {
        INT, REAL, IN, OUT, INOUT, INT_IN, INT_OUT;

        public boolean isBuffer() {
            return this != INT && this != REAL;
        }

        public boolean isIntBuffer() {
            return this == INT_IN || this == INT_OUT;
        }

        /** True for buffers the op writes. */
        public boolean isOutput() {
            return this == OUT || this == INOUT || this == INT_OUT;
        }

        static Kind parse(String s) {
            return switch (s) {
                case "int" -> INT;
                case "real" -> REAL;
                case "in" -> IN;
                case "out" -> OUT;
                case "inout" -> INOUT;
                case "iin" -> INT_IN;
                case "iout" -> INT_OUT;
                default -> throw new IllegalArgumentException("unknown parameter kind '" + s + "'");
            };
        }
    }

    /**
     * One parameter; {@code slot} is its index among the parameters of its group (ints, reals or
     * buffers); {@code optional} buffers may be null where {@link #lengths} asks for none.
     */
    public record Param(String name, Kind kind, int slot, boolean optional) {
    }

    /**
     * The tunables a kernel provider launches with (its tuning-table row): work-group sizes,
     * elements per work-item and the matmul tiling. A declaration reads what its kernel was written
     * for; the CPU provider and the reference ignore it.
     */
    public interface Launch {
        /** Work-group size of elementwise kernels. */
        int wgElementwise();

        /** Work-group size of row kernels (softmax, losses, argmax, column sums). */
        int wgRows();

        /** Work-group size (and work-items) of the one-group reduction. */
        int sumWg();

        /** Columns per work-item of the column sums. */
        int colsumVw();

        /** Elements per work-item of the activations. */
        int ewVw();

        /** Matmul work-group scheme: 0 register tiles, 1 local-memory tiles, 2 128x128 blocks. */
        int mmLocal();

        /** Matmul tile edge of scheme 1. */
        int tile();

        int mmWgx();

        int mmWgy();

        int mmWptm();

        int mmWptn();

        int mmDotm();

        int mmDotn();

        /** True when matmul may run on tensor cores with TF32 operands (CUDA only, off by default). */
        default boolean tensorCores() {
            return false;
        }
    }

    private final String family;
    private final String name;
    private final List<Param> params;
    private final int ints;
    private final int reals;
    private final int buffers;
    /** The buffer parameters by slot, and which int slots are sizes: indexed, so a run allocates no iterator. */
    private final Param[] byBuffer;
    private final boolean[] intIsSize;

    /**
     * @param family    kernel family: the file {@code kernels/<family>.kernel} and the CPU family class
     * @param name      op and kernel entry point name (a C identifier)
     * @param signature parameters in kernel-argument order, e.g. {@code "int n, in x, out y"}
     */
    protected Op(String family, String name, String signature) {
        this.family = family;
        this.name = name;
        List<Param> p = new ArrayList<>();
        int ni = 0;
        int nr = 0;
        int nb = 0;
        for (String part : signature.split(",")) {
            String[] kv = part.trim().split("\\s+");
            if (kv.length != 2) {
                throw new IllegalArgumentException(name + ": bad parameter '" + part.trim() + "'");
            }
            boolean optional = kv[0].endsWith("?");
            Kind k = Kind.parse(optional ? kv[0].substring(0, kv[0].length() - 1) : kv[0]);
            if (optional && !k.isBuffer()) {
                throw new IllegalArgumentException(name + ": only buffers may be optional, not '" + part.trim() + "'");
            }
            int slot = k == Kind.INT ? ni++ : k == Kind.REAL ? nr++ : nb++;
            p.add(new Param(kv[1], k, slot, optional));
        }
        this.params = Collections.unmodifiableList(p);
        this.ints = ni;
        this.reals = nr;
        this.buffers = nb;
        this.byBuffer = new Param[nb];
        this.intIsSize = new boolean[ni];
        for (Param q : p) {
            if (q.kind().isBuffer()) {
                byBuffer[q.slot()] = q;
            } else if (q.kind() == Kind.INT) {
                intIsSize[q.slot()] = isSize(q.name());
            }
        }
    }

    /** True when int slot {@code i} is a size (see {@link #isSize}). */
    public final boolean intIsSize(int i) {
        return intIsSize[i];
    }

    public final String family() {
        return family;
    }

    /** The op's name and its kernel's entry point. */
    public final String name() {
        return name;
    }

    public final List<Param> params() {
        return params;
    }

    public final int intCount() {
        return ints;
    }

    public final int realCount() {
        return reals;
    }

    public final int bufferCount() {
        return buffers;
    }

    /** The buffer parameter in buffer slot {@code b}. */
    public final Param buffer(int b) {
        if (b < 0 || b >= byBuffer.length) {
            throw new IndexOutOfBoundsException(name + " has no buffer " + b);
        }
        return byBuffer[b];
    }

    /** Slot of the int parameter {@code n} (for builders that set a value by name). */
    public final int intSlot(String n) {
        for (Param p : params) {
            if (p.kind() == Kind.INT && p.name().equals(n)) {
                return p.slot();
            }
        }
        throw new IllegalArgumentException(name + " has no int parameter " + n);
    }

    // ---- what each op declares ------------------------------------------------------------

    /**
     * Elements each buffer must hold (buffer slot order) for the int arguments {@code n}; a call
     * whose buffers are shorter is refused. Int arguments that are not sizes (a step counter) must
     * not change the answer.
     */
    public abstract long[] lengths(int[] n);

    /** Checks the int and real arguments; throws {@link IllegalArgumentException} naming the bad one. */
    public void validate(int[] n, double[] r) {
        for (Param p : params) {
            if (p.kind() == Kind.INT && isSize(p.name()) && n[p.slot()] < 0) {
                throw new IllegalArgumentException(name + ": " + p.name() + " must be >= 0, got " + n[p.slot()]);
            }
        }
    }

    /**
     * True for int parameters that are sizes (non-negative, fixed for a call); all but those named
     * {@code seed*}, {@code step} and {@code first} (a random op's counter offset, changed per run).
     */
    protected boolean isSize(String param) {
        return !param.startsWith("seed") && !param.equals("step") && !param.equals("first");
    }

    /** Work-items of the launch (dimension 0 only, by default). */
    public abstract long work(int[] n);

    /** The global launch shape; by default one dimension of {@link #work} items. */
    public long[] global(int[] n) {
        return new long[] {work(n)};
    }

    /** The work-group shape for a device whose elementwise work-group is {@code wg}. */
    public long[] local(int[] n, int wg) {
        return new long[] {wg};
    }

    /** The global launch shape on a device with tunables {@code t}; by default {@link #global(int[])}. */
    public long[] global(int[] n, Launch t) {
        return global(n);
    }

    /** The work-group shape on a device with tunables {@code t}; by default {@link #local(int[], int)} of its elementwise group. */
    public long[] local(int[] n, Launch t) {
        return local(n, t.wgElementwise());
    }

    /**
     * The kernel entry point for this call on a device with tunables {@code t}: {@link #name()} by
     * default; an op with a faster variant (same arguments) may pick it here.
     */
    public String entry(int[] n, Launch t) {
        return name;
    }

    /** The float64 reference: reads and writes the arrays of {@code a}. */
    public abstract void reference(RefArgs a);

    /** How far a float32 provider may stray from {@link #reference}. */
    public OpTolerance tolerance() {
        return OpTolerance.ELEMENTWISE;
    }

    /** Floating-point operations of one call (0 when not meaningful): for GFLOP/s reports. */
    public double flops(int[] n) {
        return 0;
    }

    /**
     * Sample calls for the contract and {@code salvo check}: shapes that are not multiples of any
     * tile, a zero-size case where it makes sense, fresh random inputs from {@code r}.
     */
    public abstract List<Sample> samples(Random r);

    /**
     * A sample's input for float buffer {@code b}: uniform in [-1, 1) by default. Ops whose inputs
     * must satisfy something (a positive variance) override it.
     */
    public double[] input(int b, int length, int[] n, Random r) {
        double[] x = new double[length];
        for (int i = 0; i < length; i++) {
            x[i] = 2 * r.nextDouble() - 1;
        }
        return x;
    }

    /** A sample's input for int buffer {@code b}; ops with int inputs override it. */
    public int[] intInput(int b, int length, int[] n, Random r) {
        throw new UnsupportedOperationException(name + " declares no int input generator");
    }

    /** A sample: ints and reals, with inputs drawn by {@link #input}/{@link #intInput}. */
    public final Sample sample(String label, Random r, int[] n, double... reals) {
        validate(n, reals);
        long[] len = lengths(n);
        Object[] data = new Object[buffers];
        for (Param p : params) {
            if (!p.kind().isBuffer()) {
                continue;
            }
            int b = p.slot();
            int l = Math.toIntExact(len[b]);
            data[b] = switch (p.kind()) {
                case IN, INOUT -> input(b, l, n, r);
                case OUT -> poisoned(l);
                case INT_IN -> intInput(b, l, n, r);
                case INT_OUT -> intPoisoned(l);
                default -> throw new IllegalStateException();
            };
        }
        return new Sample(label, n.clone(), reals.clone(), data);
    }

    private static double[] poisoned(int l) {
        double[] x = new double[l];
        java.util.Arrays.fill(x, Double.NaN);
        return x;
    }

    private static int[] intPoisoned(int l) {
        int[] x = new int[l];
        java.util.Arrays.fill(x, Integer.MIN_VALUE);
        return x;
    }

    /** A call of this op on {@code buffers} (slot order) with the given ints and reals. */
    public final OpCall call(DeviceBuffer[] bufs, int[] n, double... r) {
        return new OpCall(this, bufs, n, r);
    }

    @Override
    public String toString() {
        return family + "." + name;
    }

    /** Upper-case name with the family, e.g. {@code CONV.IM2COL}, for reports. */
    public final String label() {
        return (family + "." + name).toUpperCase(Locale.ROOT);
    }

    /**
     * Arrays of a call on the host, in float64: what {@link #reference} reads and writes. Buffer
     * {@code b} is {@code f[b]} (float) or {@code i[b]} (int) from element {@code off[b]}.
     */
    public static final class RefArgs {
        public final double[][] f;
        public final int[][] i;
        public final int[] off;
        public int[] n;
        public double[] r;

        public RefArgs(int buffers) {
            f = new double[buffers][];
            i = new int[buffers][];
            off = new int[buffers];
        }
    }

    /** Sample inputs of one call: data[b] is a {@code double[]} (float buffer) or {@code int[]}. */
    public record Sample(String label, int[] n, double[] r, Object[] data) {
    }
}
