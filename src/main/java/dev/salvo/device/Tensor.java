package dev.salvo.device;

import java.util.Arrays;

/**
 * A shaped view of device memory: a {@link DeviceBuffer}, an element offset into it, dims and
 * strides (in elements). Views share memory: {@link #reshape}, {@link #narrow}, {@link #select},
 * {@link #transpose}, {@link #permute} and {@link #expand} make a new view without touching the
 * device; nothing here copies or launches.
 *
 * <p>A tensor made by {@link #of} is contiguous and row-major, shape {@code (N,C,H,W)} for images
 * (NCHW) and {@code (N,F)} for features. Ops take the memory of a contiguous view as a buffer
 * ({@link #data()}); a strided view goes to ops that take strides, such as matmul ({@link #gemm}).
 * A stride of 0 repeats the same elements along a dimension ({@link #expand}).
 */
public final class Tensor {

    private final DeviceBuffer buffer;
    private final long offset;
    private final int[] dims;
    private final long[] strides;

    private Tensor(DeviceBuffer buffer, long offset, int[] dims, long[] strides) {
        this.buffer = buffer;
        this.offset = offset;
        this.dims = dims;
        this.strides = strides;
    }

    /**
     * The contiguous row-major tensor of {@code dims} at the start of {@code buffer}.
     *
     * @throws IllegalArgumentException when a dimension is negative or the buffer is too short
     */
    public static Tensor of(DeviceBuffer buffer, int... dims) {
        if (buffer == null) {
            throw new IllegalArgumentException("tensor buffer is null");
        }
        int[] d = dims.clone();
        long n = numel(d);
        if (buffer.length() < n) {
            throw new IllegalArgumentException("a tensor " + shape(d) + " needs " + n + " elements, the buffer holds "
                    + buffer.length());
        }
        return new Tensor(buffer, 0, d, contiguousStrides(d));
    }

    /**
     * Elements of a tensor of {@code dims}.
     *
     * @throws IllegalArgumentException when a dimension is negative
     */
    public static long numel(int... dims) {
        long n = 1;
        for (int x : dims) {
            if (x < 0) {
                throw new IllegalArgumentException("tensor dimensions must be >= 0, got " + shape(dims));
            }
            n = Math.multiplyExact(n, x);
        }
        return n;
    }

    /** True when both views start at the same element of the same buffer (one may be a reshape of the other). */
    public boolean sameStart(Tensor o) {
        return o != null && o.buffer == buffer && o.offset == offset;
    }

    /** Row-major strides of {@code dims}. */
    public static long[] contiguousStrides(int[] dims) {
        long[] s = new long[dims.length];
        long step = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = step;
            step *= dims[i];
        }
        return s;
    }

    /** The buffer this view reads (possibly a slice of a larger allocation). */
    public DeviceBuffer buffer() {
        return buffer;
    }

    /** Element offset of element (0, ..., 0) in {@link #buffer()}. */
    public long offset() {
        return offset;
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}; negative counts from the end ({@code -1} is the last). */
    public int dim(int i) {
        return dims[axis(i)];
    }

    /** Stride of dimension {@code i} in elements; negative counts from the end. */
    public long stride(int i) {
        return strides[axis(i)];
    }

    /** A copy of the dims. */
    public int[] dims() {
        return dims.clone();
    }

    /** A copy of the strides. */
    public long[] strides() {
        return strides.clone();
    }

    /** The dims after the first (a batch's per-sample shape). */
    public int[] sampleShape() {
        return Arrays.copyOfRange(dims, 1, dims.length);
    }

    /** Number of elements (1 for rank 0). */
    public long numel() {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** Elements of the buffer between the first and the last element of this view, both included (0 when empty). */
    public long span() {
        if (numel() == 0) {
            return 0;
        }
        long s = 1;
        for (int i = 0; i < dims.length; i++) {
            s += (long) (dims[i] - 1) * strides[i];
        }
        return s;
    }

    /** True when the view is row-major and dense (dimensions of size 1 may have any stride). */
    public boolean isContiguous() {
        long step = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            if (dims[i] != 1 && strides[i] != step) {
                return false;
            }
            step *= dims[i];
        }
        return true;
    }

    /**
     * The memory of a contiguous view as a buffer: {@link #numel()} elements from {@link #offset()}.
     *
     * @throws IllegalStateException when the view is strided (transpose it back or use an op that takes strides)
     */
    public DeviceBuffer data() {
        if (!isContiguous()) {
            throw new IllegalStateException("tensor " + this + " is not contiguous: its ops need a dense copy");
        }
        return buffer.slice(offset, numel());
    }

    /** The buffer region a strided view reads: {@link #span()} elements from {@link #offset()}. */
    public DeviceBuffer region() {
        return buffer.slice(offset, span());
    }

    // ---- views ----------------------------------------------------------------------------

    /**
     * The same elements under other dims (one may be {@code -1}: inferred). A view, so the tensor
     * must be contiguous.
     */
    public Tensor reshape(int... newDims) {
        int[] d = newDims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape " + shape(d) + ": only one dimension may be -1");
                }
                infer = i;
            } else if (d[i] < 0) {
                throw new IllegalArgumentException("reshape " + shape(d) + ": dimensions must be >= 0 or -1");
            } else {
                known *= d[i];
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + this + " (" + n + " elements) to " + shape(d));
            }
            d[infer] = Math.toIntExact(n / known);
            known *= d[infer];
        }
        if (known != n) {
            throw new IllegalArgumentException("cannot reshape " + this + " (" + n + " elements) to " + shape(d) + " ("
                    + known + " elements)");
        }
        if (!isContiguous()) {
            throw new IllegalStateException("cannot reshape the strided view " + this + " without a copy");
        }
        return new Tensor(buffer, offset, d, contiguousStrides(d));
    }

    /** The dims from {@code from} on merged into one: {@code (N,C,H,W).flatten(1)} is {@code (N,C*H*W)}. */
    public Tensor flatten(int from) {
        int a = axis(from);
        int[] d = Arrays.copyOf(dims, a + 1);
        long m = 1;
        for (int i = a; i < dims.length; i++) {
            m *= dims[i];
        }
        d[a] = Math.toIntExact(m);
        return reshape(d);
    }

    /** Indices {@code [start, start + length)} of dimension {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        int a = axis(dim);
        if (start < 0 || length < 0 || (long) start + length > dims[a]) {
            throw new IndexOutOfBoundsException("narrow " + this + " dimension " + a + " to [" + start + ", "
                    + ((long) start + length) + "): outside [0, " + dims[a] + ")");
        }
        int[] d = dims.clone();
        d[a] = length;
        return new Tensor(buffer, offset + (long) start * strides[a], d, strides.clone());
    }

    /** The first {@code n} indices of dimension 0: a batch's first rows. */
    public Tensor rows(int n) {
        return narrow(0, 0, n);
    }

    /** Index {@code index} of dimension {@code dim}, that dimension dropped: {@code (B,T,C).select(1, t)} is {@code (B,C)}. */
    public Tensor select(int dim, int index) {
        int a = axis(dim);
        if (index < 0 || index >= dims[a]) {
            throw new IndexOutOfBoundsException("select index " + index + " of dimension " + a + " of " + this);
        }
        int[] d = new int[dims.length - 1];
        long[] s = new long[dims.length - 1];
        for (int i = 0, j = 0; i < dims.length; i++) {
            if (i != a) {
                d[j] = dims[i];
                s[j++] = strides[i];
            }
        }
        return new Tensor(buffer, offset + (long) index * strides[a], d, s);
    }

    /** Dimensions {@code i} and {@code j} swapped (a strided view). */
    public Tensor transpose(int i, int j) {
        int[] order = new int[dims.length];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        order[axis(i)] = axis(j);
        order[axis(j)] = axis(i);
        return permute(order);
    }

    /** Dimensions reordered: new dimension {@code k} is old dimension {@code order[k]}. */
    public Tensor permute(int... order) {
        if (order.length != dims.length) {
            throw new IllegalArgumentException("permute of " + this + " needs " + dims.length + " axes, got "
                    + Arrays.toString(order));
        }
        boolean[] seen = new boolean[dims.length];
        int[] d = new int[dims.length];
        long[] s = new long[dims.length];
        for (int k = 0; k < order.length; k++) {
            int a = axis(order[k]);
            if (seen[a]) {
                throw new IllegalArgumentException("permute " + Arrays.toString(order) + " repeats axis " + a);
            }
            seen[a] = true;
            d[k] = dims[a];
            s[k] = strides[a];
        }
        return new Tensor(buffer, offset, d, s);
    }

    /** A new leading dimension of {@code n} that repeats this view (stride 0): one weight shared by a batch. */
    public Tensor expand(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("expand to " + n + " entries");
        }
        int[] d = new int[dims.length + 1];
        long[] s = new long[dims.length + 1];
        d[0] = n;
        System.arraycopy(dims, 0, d, 1, dims.length);
        System.arraycopy(strides, 0, s, 1, dims.length);
        return new Tensor(buffer, offset, d, s);
    }

    // ---- matmul from views ----------------------------------------------------------------

    /**
     * The {@link Gemm} of {@code c = a b} for views: the last two dims of each are the matrices,
     * {@code a (..., M, K)}, {@code b (..., K, N)}, {@code c (..., M, N)}; a matrix whose strides are
     * {@code (1, M)} (a {@link #transpose} of a dense one) is read transposed. Leading dims are the
     * batch; they must collapse to one stride per operand (or stride 0: shared by every entry, see
     * {@link #expand}), and {@code c} must be dense. Pass {@link #region()} of each view to matmul.
     *
     * @throws IllegalArgumentException naming the operand whose shape or strides do not fit
     */
    public static Gemm gemm(Tensor a, Tensor b, Tensor c) {
        if (a.rank() < 2 || b.rank() < 2 || c.rank() < 2) {
            throw new IllegalArgumentException("matmul needs matrices (rank >= 2): a " + a + ", b " + b + ", c " + c);
        }
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        if (b.dim(-2) != k || c.dim(-2) != m || c.dim(-1) != n) {
            throw new IllegalArgumentException("matmul shapes do not fit: a " + a.shapeString() + ", b " + b.shapeString()
                    + ", c " + c.shapeString() + " (want a (..,M,K), b (..,K,N), c (..,M,N))");
        }
        int batch = c.batchCount();
        for (Tensor t : new Tensor[] {a, b}) {
            int tb = t.batchCount();
            if (tb != batch && !(t.rank() == 2)) {
                throw new IllegalArgumentException("matmul batch dims differ: " + t.shapeString() + " against c "
                        + c.shapeString());
            }
        }
        if (c.matrixTransposed()) {
            throw new IllegalArgumentException("matmul output " + c + " must be a dense row-major matrix");
        }
        boolean transA = a.matrixTransposed();
        boolean transB = b.matrixTransposed();
        Gemm g = new Gemm(m, n, k, transA, transB);
        if (batch == 1 && a.rank() == 2 && b.rank() == 2 && c.rank() == 2) {
            return g;
        }
        return g.batched(batch, a.batchStride("a"), b.batchStride("b"), c.batchStride("c"));
    }

    /** Product of the dims before the last two. */
    private int batchCount() {
        long n = 1;
        for (int i = 0; i < dims.length - 2; i++) {
            n *= dims[i];
        }
        return Math.toIntExact(n);
    }

    /**
     * True when the last two dims are stored column-major (strides (1, rows)); false when row-major
     * (strides (cols, 1)).
     *
     * @throws IllegalArgumentException when the matrix is neither
     */
    private boolean matrixTransposed() {
        int r = dim(-2);
        int c = dim(-1);
        long sr = stride(-2);
        long sc = stride(-1);
        boolean rowMajor = (c <= 1 || sc == 1) && (r <= 1 || sr == c);
        boolean colMajor = (r <= 1 || sr == 1) && (c <= 1 || sc == r);
        if (rowMajor && colMajor) { // a vector, or a 1x1 matrix: read it the way its view was made
            return sr < sc;
        }
        if (rowMajor || colMajor) {
            return colMajor;
        }
        throw new IllegalArgumentException("matmul operand " + this + " is not a dense matrix (strides "
                + Arrays.toString(strides) + ")");
    }

    /** The one stride between batch entries (0 when shared; the matrix size for rank 2). */
    private long batchStride(String name) {
        if (dims.length == 2) {
            return 0;
        }
        long step = -1;
        long expect = -1;
        for (int i = dims.length - 3; i >= 0; i--) {
            if (dims[i] == 1) {
                continue;
            }
            if (step < 0) {
                step = strides[i];
                expect = strides[i] * dims[i];
            } else if (strides[i] != expect && !(step == 0 && strides[i] == 0)) {
                throw new IllegalArgumentException("matmul " + name + " " + this + ": its batch dims do not collapse to one stride");
            } else {
                expect = strides[i] * dims[i];
            }
        }
        return Math.max(step, 0);
    }

    // ---- text -----------------------------------------------------------------------------

    /** {@code (2,3,4)}. */
    public String shapeString() {
        return shape(dims);
    }

    /** {@code (2,3,4)}, with the strides when the view is not contiguous. */
    @Override
    public String toString() {
        return isContiguous() ? shape(dims) : shape(dims) + " strides " + Arrays.toString(strides);
    }

    /** {@code (2,3,4)} for dims. */
    public static String shape(int[] dims) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            b.append(i == 0 ? "" : ",").append(dims[i]);
        }
        return b.append(')').toString();
    }

    private int axis(int i) {
        int a = i < 0 ? dims.length + i : i;
        if (a < 0 || a >= dims.length) {
            throw new IndexOutOfBoundsException("dimension " + i + " of a rank-" + dims.length + " tensor " + shape(dims));
        }
        return a;
    }
}
