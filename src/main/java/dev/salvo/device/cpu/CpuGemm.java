package dev.salvo.device.cpu;

import dev.salvo.device.Gemm;

import java.util.Arrays;
import java.util.Objects;

/**
 * Cache-blocked single-precision matrix multiply on the CPU, BLIS style.
 *
 * <p>Loop nest (Vector API path): column blocks of {@code nc} ({@code jc}): first pack every depth
 * block of {@code op(B)[:, jc:jc+nc]} into {@code NR}-column micro-panels, shared by all workers
 * (one pool call); then one pool call over row chunks: per row block of at most {@code mc}
 * ({@code ic}) and per depth block of {@code kc} ({@code pc}, ascending), pack
 * {@code op(A)[ic:ic+mc, pc:pc+kc]} into {@code MR}-row interleaved micro-panels (one buffer per
 * worker) and run the micro-kernel over each {@code MR x NR} tile. So a product of up to {@code nc}
 * columns costs two pool hand-offs whatever its depth: on a machine shared with other work a
 * worker that is descheduled for a while stalls the caller at most twice per call. The scalar path
 * keeps one hand-off pair per depth block (its packed B is one depth block of row arrays).
 * Packing absorbs the four transpose combinations and zero-pads the edges,
 * so one micro-kernel serves every shape; edge tiles are stored partially. The Vector API kernel
 * ({@link VectorGemmKernel}, 12 x 2*lanes) is only loaded when {@link #vectorApiAvailable()}; the
 * scalar fallback ({@link ScalarGemmKernel}) packs op(B) as separate row arrays instead, a layout
 * C2 can auto-vectorize.
 *
 * <p>Two shapes get their own loop nests on the Vector API path (both one pool call per product).
 * <em>Column mode</em> ({@link #columnMode}: at most {@code 4 mc} rows, at least {@code 8 nsub}
 * columns, as a convolution's forward and input-gradient products): tasks own ranges of whole
 * {@code NR} column panels with every row, and pack their own op(B) block of {@code nsub} columns
 * per depth block into per-worker scratch (L2-sized), so each packed micro-panel serves all of M.
 * <em>Split depth</em> ({@link #kSegments}: a small C and a depth of at least 8192, as a
 * convolution's weight gradient): the depth is cut into segments fixed by the shape, each a task
 * writing its own partial C, added in segment order at the end; the NT form runs on
 * {@link VectorDotKernel} straight from the operands, the others on the packed kernel with the
 * operands swapped when that pads less. Both modes are chosen by the shape alone and sum every
 * element in an order fixed by the shape and the blocks (not the order of the general path: the
 * depth blocks are balanced, and split depth adds partials), so they keep the thread-count
 * independence below.
 *
 * <p>Threading goes through {@link CpuPool} only. Each pool call splits its work into tasks whose
 * ranges depend only on the shape and the thread count, and every element of C is summed in the
 * same order whichever thread (and however many threads) compute it, so results are bitwise
 * reproducible. Problems below {@link #PARALLEL_MIN_VOLUME} multiply-adds run on the caller alone.
 *
 * <p>Batches ({@link Gemm#batch()} > 1): large products run one after the other, each split as
 * above; small ones (below {@link #PARALLEL_MIN_VOLUME}) run whole on one worker each, the entries
 * split over the pool in ranges that depend only on the batch size and the thread count. An entry
 * is summed in the same order on either path, so batching keeps results bitwise reproducible.
 * Accumulation ({@code beta = 1}) lets the first depth block add to C instead of overwriting it.
 *
 * <p>Packing buffers are kept (A per worker, {@code mc x kc}; op(B) shared, {@code K x min(N, nc)}
 * on the Vector API path, or one per worker once a batch has been split over its entries) and grown
 * only when a larger shape arrives; a call on already-seen shapes allocates nothing here. One
 * instance serves one caller at a time ({@link #multiply} is synchronized).
 */
public final class CpuGemm {

    /** Default block sizes, used when native-config gives none. */
    public static final int DEFAULT_MC = 96, DEFAULT_KC = 256, DEFAULT_NC = 4096;

    /** Below this many multiply-adds ({@code M*N*K}) a product runs single-threaded. */
    static final long PARALLEL_MIN_VOLUME = 64L * 64 * 64;

    private static final boolean VECTOR_MODULE =
            ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private final CpuPool pool;
    private final boolean simd;
    private final int mr, nr, mc, kc, nc;
    /** Columns of op(B) a column-mode or split-depth task packs at a time ({@code kc x nsub} stays in L2). */
    private final int nsub;

    // per-worker scratch, grown on demand (index = CpuPool worker)
    private final float[][] aPack;
    /** Per worker: the op(B) block of the column mode and the split-depth mode ({@code kc x nsub}). */
    private final float[][] bBlock;
    /** Per worker: the lanes of a {@link VectorDotKernel} tile (SIMD path only). */
    private final float[][] dotLanes;
    private final float[][] tile;
    private final ScalarGemmKernel.Scratch[] scratch;
    /**
     * Per worker: a product in flight and its packed op(B). Entry 0 also serves products split
     * over the whole pool (its packed B is then shared by all workers); the others are used only
     * when a batch is split across its entries.
     */
    private final Product[] products;

    // the batch split across entries, read by the pool tasks (published by CpuPool's volatile job)
    private int batchCount;
    private long batchStrideA, batchStrideB, batchStrideC;
    private float[] batchA, batchB, batchC;
    private int batchAOff, batchBOff, batchCOff;
    private int batchTasks;

    private final CpuPool.Task batchTask = this::batchTask;

    /** mc, kc, nc: cache-block sizes (rows of A per block, depth, columns of B per block); simd=false forces the scalar path. */
    public CpuGemm(CpuPool pool, int mc, int kc, int nc, boolean simd) {
        this.pool = Objects.requireNonNull(pool, "pool");
        if (mc < 1 || kc < 1 || nc < 1) {
            throw new IllegalArgumentException("block sizes must be >= 1: mc=" + mc + " kc=" + kc + " nc=" + nc);
        }
        this.simd = simd && vectorApiAvailable() && VectorGemmKernel.usable();
        this.mr = this.simd ? VectorGemmKernel.MR : ScalarGemmKernel.MR;
        this.nr = this.simd ? VectorGemmKernel.NR : ScalarGemmKernel.NR;
        this.mc = GemmPacking.roundUp(mc, mr);
        this.kc = kc;
        this.nc = GemmPacking.roundUp(nc, nr);
        this.nsub = GemmPacking.roundUp(Math.min(this.nc, Math.max(nr, (1 << 17) / kc)), nr);
        int threads = pool.threads();
        this.aPack = new float[threads][0];
        this.bBlock = new float[threads][0];
        this.dotLanes = new float[threads][];
        this.tile = new float[threads][];
        this.scratch = new ScalarGemmKernel.Scratch[threads];
        this.products = new Product[threads];
        for (int w = 0; w < threads; w++) {
            if (this.simd) {
                tile[w] = new float[mr * nr];
                dotLanes[w] = new float[16 * VectorDotKernel.L];
            } else {
                scratch[w] = new ScalarGemmKernel.Scratch();
            }
            products[w] = new Product();
        }
    }

    /** True when the jdk.incubator.vector module is in the boot layer (JVM started with --add-modules jdk.incubator.vector). */
    public static boolean vectorApiAvailable() {
        return VECTOR_MODULE;
    }

    /** True when this instance uses the Vector API kernel. */
    public boolean usesSimd() {
        return simd;
    }

    /**
     * c (M,N) = op(a) op(b), overwriting c (row-major, leading dimensions implied by the shapes:
     * A stored (M,K) or (K,M) if transA; B stored (K,N) or (N,K) if transB; C (M,N)), or adding
     * to it when {@link Gemm#accumulates()} (c is never read otherwise). aOff/bOff/cOff are element
     * offsets into the arrays. K = 0 writes zeros (leaves c as it is when accumulating); M or N = 0
     * does nothing. A batched {@code g} does this for every entry at its strides and touches
     * nothing between entries.
     *
     * <p>Batches: products of at least {@link #PARALLEL_MIN_VOLUME} multiply-adds run one after
     * the other, each split over the pool; smaller ones run whole, the entries split over the pool
     * (one packed op(B) per worker). Each entry is computed in the same order either way, so the
     * results do not depend on the thread count.
     */
    public void multiply(Gemm g, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        multiply(g.m(), g.n(), g.k(), g.transA(), g.transB(), g.batch(), g.strideA(), g.strideB(), g.strideC(), g.accumulates(),
                a, aOff, b, bOff, c, cOff);
    }

    /** {@link #multiply(Gemm, float[], int, float[], int, float[], int)} of the shape's fields (no {@link Gemm} made per call). */
    public synchronized void multiply(int m, int n, int k, boolean transA, boolean transB, int batch, long strideA, long strideB,
                                      long strideC, boolean acc, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        Objects.checkFromIndexSize(aOff, GemmPacking.span(batch, strideA, (long) m * k), a.length);
        Objects.checkFromIndexSize(bOff, GemmPacking.span(batch, strideB, (long) k * n), b.length);
        Objects.checkFromIndexSize(cOff, GemmPacking.span(batch, strideC, (long) m * n), c.length);
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!acc) {
                for (int e = 0; e < batch; e++) {
                    int co = cOff + (int) (e * strideC);
                    Arrays.fill(c, co, co + m * n, 0f);
                }
            }
            return;
        }
        long volume = (long) m * n * k;
        int threads = pool.threads();
        if (batch > 1 && volume < PARALLEL_MIN_VOLUME && threads > 1 && volume * batch >= PARALLEL_MIN_VOLUME) {
            // small products, many of them: whole products per worker, entries split over the pool
            ensureScratch(m, n, k, threads, true);
            for (Product p : products) {
                p.shape(m, n, k, transA, transB, acc);
            }
            batchCount = batch;
            batchStrideA = strideA;
            batchStrideB = strideB;
            batchStrideC = strideC;
            batchA = a;
            batchB = b;
            batchC = c;
            batchAOff = aOff;
            batchBOff = bOff;
            batchCOff = cOff;
            batchTasks = Math.min(batch, 4 * threads);
            try {
                pool.run(batchTasks, batchTask);
            } finally {
                batchA = null;
                batchB = null;
                batchC = null;
            }
            return;
        }
        boolean parallel = threads > 1 && volume >= PARALLEL_MIN_VOLUME;
        ensureScratch(m, n, k, parallel ? threads : 1, false);
        Product p = products[0];
        p.shape(m, n, k, transA, transB, acc);
        try {
            for (int e = 0; e < batch; e++) {
                p.set(a, aOff + (int) (e * strideA), b, bOff + (int) (e * strideB), c, cOff + (int) (e * strideC));
                p.run(parallel, parallel ? pool.threads() : 1, 0);
            }
        } finally {
            p.clear();
        }
    }

    /** Entries {@code [e0, e1)} of the batch in flight, each whole, on this worker's own product and scratch. */
    private void batchTask(int task, int worker) {
        int e0 = CpuPool.bound(batchCount, batchTasks, task);
        int e1 = CpuPool.bound(batchCount, batchTasks, task + 1);
        Product p = products[worker];
        try {
            for (int e = e0; e < e1; e++) {
                p.set(batchA, batchAOff + (int) (e * batchStrideA), batchB, batchBOff + (int) (e * batchStrideB), batchC,
                        batchCOff + (int) (e * batchStrideC));
                p.run(false, 1, worker);
            }
        } finally {
            p.clear();
        }
    }

    /**
     * Grows the scratch of workers {@code [0, workers)} for an (M,N,K) product: A packing and
     * scalar accumulator rows for each; packed op(B) for worker 0 only, or for each when
     * {@code bPerWorker}.
     */
    private void ensureScratch(int m, int n, int k, int workers, boolean bPerWorker) {
        int kbMax = Math.min(kc, k);
        int nbMax = Math.min(nc, GemmPacking.roundUp(n, nr));
        boolean blocked = simd && (kSegments(m, n, k) > 1 || columnMode(m, n));
        // the split-depth mode may swap the operands: rows of either side
        int rows = blocked ? Math.max(m, n) : m;
        int aNeed = Math.min(mc, GemmPacking.roundUp(rows, mr)) * kbMax;
        int bNeed = kbMax * Math.min(nsub, GemmPacking.roundUp(rows, nr));
        for (int w = 0; w < workers; w++) {
            if (aPack[w].length < aNeed) {
                aPack[w] = new float[aNeed];
            }
            if (!simd) {
                scratch[w].ensure(nbMax);
            }
            if (blocked && bBlock[w].length < bNeed) {
                bBlock[w] = new float[bNeed];
            }
            if (!blocked && (w == 0 || bPerWorker)) {
                products[w].ensureB(k, kbMax, nbMax);
            }
        }
        if (blocked && kSegments(m, n, k) > 1) {
            products[0].ensurePartials(kSegments(m, n, k) * m * n);
        }
    }

    /**
     * The depth block of the column and split-depth modes: {@code K} in {@code ceil(K / kc)} equal
     * blocks (288 = 2 x 144 rather than 256 + 32, whose short block costs a tile store as the long one).
     */
    int depthBlock(int k) {
        return GemmPacking.ceilDiv(k, GemmPacking.ceilDiv(k, kc));
    }

    /** A product of C at most SPLIT_MAX_MN, depth at least SPLIT_MIN_K, may be split in SPLIT_MAX_SEGMENTS depth segments. */
    static final int SPLIT_MIN_K = 8192, SPLIT_MAX_MN = 1 << 16, SPLIT_MAX_SEGMENTS = 16;

    /**
     * Depth segments of an (M,N,K) product on the SIMD path: 1 (not split) unless the product is
     * at least {@link #PARALLEL_MIN_VOLUME}, K at least {@link #SPLIT_MIN_K} and C at most
     * {@link #SPLIT_MAX_MN}, which is a weight gradient's shape (small C, long batch depth) that
     * the row and column split cannot spread over the threads. Then about one segment per 2048 of
     * depth, at most {@link #SPLIT_MAX_SEGMENTS}, each a whole number of {@link #depthBlock}s.
     * Depends on the shape and the blocks only, never on the thread count.
     */
    int kSegments(int m, int n, int k) {
        if ((long) m * n * k < PARALLEL_MIN_VOLUME || k < SPLIT_MIN_K || (long) m * n > SPLIT_MAX_MN) {
            return 1;
        }
        return Math.max(1, Math.min(Math.min(SPLIT_MAX_SEGMENTS, GemmPacking.ceilDiv(k, depthBlock(k))), k / 2048));
    }

    /**
     * True when an unsplit product runs in column mode (SIMD path): few rows ({@code M <= 4 mc})
     * and many columns ({@code N >= 8 nsub}), the convolution shapes. Tasks then own column ranges
     * with every row, so each packed micro-panel of op(B) serves all of M, and pack their own op(B)
     * block by block (no shared packing, one pool call per product).
     */
    boolean columnMode(int m, int n) {
        return m <= 4 * mc && n >= 8 * nsub;
    }

    /** One product {@code C = op(A) op(B)} (or {@code C +=}) in flight, and the packed op(B) it uses. */
    private final class Product {
        private float[] bPack = new float[0];
        private float[][] bRows = new float[0][];

        private float[] curA, curB, curC;
        private int curAOff, curBOff, curCOff;
        private int curM, curN, curK;
        private boolean curTransA, curTransB, curAcc;
        private int curJc;
        private int curNb;
        private int curNbPad;
        private int packTasks;
        private int scalarPc;
        private int tasksM;
        private int tasksN;
        /** The worker that runs every task when the product is not split over the pool. */
        private int soloWorker;

        private final CpuPool.Task packBTask = this::packBTask;
        private final CpuPool.Task computeTask = this::computeTask;
        private final CpuPool.Task columnTask = this::columnTask;
        private final CpuPool.Task segmentTask = this::segmentTask;
        private int colTasks;
        private int segments;
        /** The split-depth product is computed as {@code C^T = op(B)^T op(A)^T} (less edge padding). */
        private boolean swapped;
        /** The split-depth product is in the NT form and runs on {@link VectorDotKernel}. */
        private boolean dots;
        /** Split-depth partial products, segment {@code s} at {@code s * M * N}. */
        private float[] partials = new float[0];

        void ensurePartials(int need) {
            if (partials.length < need) {
                partials = new float[need];
            }
        }

        void ensureB(int k, int kbMax, int nbMax) {
            if (simd) {
                // all depth blocks of one column block of op(B), packed once per column block
                long need = (long) k * nbMax;
                if (need > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("matmul: K * min(N, nc) = " + need + " packed floats exceed a Java array; lower gemm.nc");
                }
                if (bPack.length < need) {
                    bPack = new float[(int) need];
                }
            } else if (bRows.length < kbMax || bRows[0].length < nbMax) {
                int rows = Math.max(kbMax, bRows.length);
                int width = bRows.length == 0 ? nbMax : Math.max(nbMax, bRows[0].length);
                bRows = new float[rows][width];
            }
        }

        void shape(int m, int n, int k, boolean transA, boolean transB, boolean acc) {
            curM = m;
            curN = n;
            curK = k;
            curTransA = transA;
            curTransB = transB;
            curAcc = acc;
        }

        void set(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
            curA = a;
            curB = b;
            curC = c;
            curAOff = aOff;
            curBOff = bOff;
            curCOff = cOff;
        }

        void clear() {
            curA = null;
            curB = null;
            curC = null;
        }

        /** Runs the product set last: split over the pool when {@code parallel}, else every task on {@code worker}. */
        void run(boolean parallel, int threads, int worker) {
            int m = curM;
            int n = curN;
            int k = curK;
            soloWorker = worker;
            if (simd) {
                int segs = kSegments(m, n, k);
                if (segs > 1) {
                    runSplitDepth(parallel, segs);
                    return;
                }
                if (columnMode(m, n)) {
                    colTasks = Math.min(GemmPacking.ceilDiv(n, nr), Math.max(4 * threads, GemmPacking.ceilDiv(n, nsub)));
                    runTasks(parallel, colTasks, columnTask);
                    return;
                }
            }
            int mPanels = GemmPacking.ceilDiv(m, mr);
            for (int jc = 0; jc < n; jc += nc) {
                int nb = Math.min(nc, n - jc);
                int nPanels = GemmPacking.ceilDiv(nb, nr);
                // row chunks: about one per mc rows and at least two per thread (a thread that the OS
                // takes away for a while then leaves little to wait for), rounded up to a multiple of
                // the threads; column chunks only when there are fewer row chunks than threads
                int tm = Math.min(mPanels, GemmPacking.roundUp(Math.max(GemmPacking.ceilDiv(m, mc), 2 * threads), threads));
                int tn = Math.min(nPanels, GemmPacking.ceilDiv(threads, tm));
                curJc = jc;
                curNb = nb;
                curNbPad = nPanels * nr;
                tasksM = tm;
                tasksN = tn;
                packTasks = Math.min(nPanels, threads);
                if (simd) {
                    // two pool calls per column block: pack every depth block of op(B), then compute
                    runTasks(parallel, packTasks, packBTask);
                    runTasks(parallel, tm * tn, computeTask);
                } else {
                    for (int pc = 0; pc < k; pc += kc) {
                        scalarPc = pc;
                        runTasks(parallel, packTasks, packBTask);
                        runTasks(parallel, tm * tn, computeTask);
                    }
                }
            }
        }

        private void runTasks(boolean parallel, int tasks, CpuPool.Task task) {
            if (parallel && tasks > 1) {
                pool.run(tasks, task);
            } else {
                for (int t = 0; t < tasks; t++) {
                    task.run(t, soloWorker);
                }
            }
        }

        /** Column mode: task {@code t} computes every row of its range of whole {@code NR} panels of C. */
        private void columnTask(int task, int worker) {
            int nPanels = GemmPacking.ceilDiv(curN, nr);
            int c0 = CpuPool.bound(nPanels, colTasks, task) * nr;
            int c1 = Math.min(curN, CpuPool.bound(nPanels, colTasks, task + 1) * nr);
            block(worker, curA, curAOff, curTransA, curM, curB, curBOff, curTransB, curN, curK, c0, c1, 0, curK,
                    curC, curCOff, curN, curAcc);
        }

        /**
         * Split depth: segment {@code s} (whole {@link #depthBlock}s) of the product, into its own
         * partial ({@code M x N}, or {@code N x M} when {@link #swapped}); the partials are added
         * in segment order afterwards.
         */
        private void segmentTask(int s, int worker) {
            int kcb = depthBlock(curK);
            int kBlocks = GemmPacking.ceilDiv(curK, kcb);
            int k0 = CpuPool.bound(kBlocks, segments, s) * kcb;
            int k1 = Math.min(curK, CpuPool.bound(kBlocks, segments, s + 1) * kcb);
            int size = curM * curN;
            if (dots) {
                // NT form: dot products of rows, the operand with fewer rows as the kernel's A
                if (swapped) {
                    VectorDotKernel.dots(curB, curBOff, curK, curN, curA, curAOff, curK, curM, k0, k1, partials, s * size, curM,
                            dotLanes[worker]);
                } else {
                    VectorDotKernel.dots(curA, curAOff, curK, curM, curB, curBOff, curK, curN, k0, k1, partials, s * size, curN,
                            dotLanes[worker]);
                }
            } else if (swapped) {
                // C^T (N,M) = op(B)^T op(A)^T: op(B)^T is B read with the opposite transpose, likewise A
                block(worker, curB, curBOff, !curTransB, curN, curA, curAOff, !curTransA, curM, curK, 0, curM, k0, k1,
                        partials, s * size, curM, false);
            } else {
                block(worker, curA, curAOff, curTransA, curM, curB, curBOff, curTransB, curN, curK, 0, curN, k0, k1,
                        partials, s * size, curN, false);
            }
        }

        private void runSplitDepth(boolean parallel, int segs) {
            int m = curM;
            int n = curN;
            segments = segs;
            dots = !curTransA && curTransB;
            swapped = dots ? n < m : (long) GemmPacking.roundUp(n, mr) * GemmPacking.roundUp(m, nr) < (long) GemmPacking.roundUp(m, mr) * GemmPacking.roundUp(n, nr);
            runTasks(parallel, segs, segmentTask);
            // C = (C +) P_0 + P_1 + ... in segment order, whatever ran the segments
            float[] p = partials;
            float[] c = curC;
            int size = m * n;
            int si = swapped ? 1 : n; // partial index of (i, j): i * si + j * sj
            int sj = swapped ? m : 1;
            for (int i = 0; i < m; i++) {
                int ci = curCOff + i * n;
                for (int j = 0; j < n; j++) {
                    int at = i * si + j * sj;
                    float v = curAcc ? c[ci + j] + p[at] : p[at];
                    for (int t = 1; t < segs; t++) {
                        v += p[at + t * size];
                    }
                    c[ci + j] = v;
                }
            }
        }

        /**
         * {@code C[:, c0:c1] = (or +=) op(A)[:, k0:k1] op(B)[k0:k1, c0:c1]} on one worker (A is M
         * rows, B N columns, K their stored depth; C at {@code cOff}, row stride {@code ldc}), in
         * blocks of {@code nsub} columns: per depth block ({@link #depthBlock}, ascending from
         * {@code k0}, so every element is summed in an order fixed by the shape, whichever task and
         * thread computes it) pack the op(B) block once, then per {@code mc} rows pack A and run
         * the macro-kernel. The first block overwrites C unless {@code acc}.
         */
        private void block(int worker, float[] a, int aOff, boolean ta, int m, float[] b, int bOff, boolean tb, int n,
                           int k, int c0, int c1, int k0, int k1, float[] c, int cOff, int ldc, boolean acc) {
            float[] ap = aPack[worker];
            float[] bp = bBlock[worker];
            float[] t = tile[worker];
            int kcb = depthBlock(k);
            for (int j0 = c0; j0 < c1; j0 += nsub) {
                int nb = Math.min(nsub, c1 - j0);
                for (int pc = k0; pc < k1; pc += kcb) {
                    int kb = Math.min(kcb, k1 - pc);
                    GemmPacking.packB(b, bOff, tb, n, k, j0, nb, pc, kb, bp, 0, nr);
                    for (int ic = 0; ic < m; ic += mc) {
                        int mb = Math.min(mc, m - ic);
                        GemmPacking.packA(a, aOff, ta, m, k, ic, mb, pc, kb, ap, mr);
                        VectorGemmKernel.macro(mb, nb, kb, ap, bp, 0, c, cOff + ic * ldc + j0, ldc, pc > k0 || acc, t);
                    }
                }
            }
        }

        /**
         * Packs this task's share of the B micro-panels of the current column block: on the SIMD path
         * for every depth block (block {@code pc} from {@code pc * nbPad}, see {@link GemmPacking#packB}); on the
         * scalar path for the current depth block only.
         */
        private void packBTask(int task, int worker) {
            int nPanels = GemmPacking.ceilDiv(curNb, nr);
            int p0 = CpuPool.bound(nPanels, packTasks, task);
            int p1 = CpuPool.bound(nPanels, packTasks, task + 1);
            int col0 = p0 * nr;
            int cols = Math.min(curNb, p1 * nr) - col0;
            if (simd) {
                for (int pc = 0; pc < curK; pc += kc) {
                    int kb = Math.min(kc, curK - pc);
                    GemmPacking.packB(curB, curBOff, curTransB, curN, curK, curJc + col0, cols, pc, kb, bPack, pc * curNbPad + col0 * kb, nr);
                }
            } else {
                ScalarGemmKernel.packB(curB, curBOff, curTransB, curN, curK, curJc + col0, cols, scalarPc,
                        Math.min(kc, curK - scalarPc), bRows, col0);
            }
        }

        /**
         * One (row chunk, column chunk) of the current column block: per {@code mc} rows and per depth
         * block (in ascending order, so every element is summed in the same order), pack A and run the
         * macro-kernel. The scalar path does the current depth block only. The first depth block
         * overwrites C unless the product accumulates.
         */
        private void computeTask(int task, int worker) {
            int tm = tasksM;
            int tn = tasksN;
            int ti = task % tm;
            int tj = task / tm;
            int mPanels = GemmPacking.ceilDiv(curM, mr);
            int row0 = CpuPool.bound(mPanels, tm, ti) * mr;
            int row1 = Math.min(curM, CpuPool.bound(mPanels, tm, ti + 1) * mr);
            int nPanels = GemmPacking.ceilDiv(curNb, nr);
            int pj0 = CpuPool.bound(nPanels, tn, tj);
            int pj1 = CpuPool.bound(nPanels, tn, tj + 1);
            int col0 = pj0 * nr;
            int cols = Math.min(curNb, pj1 * nr) - col0;
            if (row1 <= row0 || cols <= 0) {
                return;
            }
            float[] ap = aPack[worker];
            int ldc = curN;
            for (int ic = row0; ic < row1; ic += mc) {
                int mb = Math.min(mc, row1 - ic);
                int cRow0 = curCOff + ic * ldc + curJc;
                if (simd) {
                    for (int pc = 0; pc < curK; pc += kc) {
                        int kb = Math.min(kc, curK - pc);
                        if (!curTransA && cols <= VectorGemmKernel.IN_PLACE_MAX_PANELS * nr) {
                            VectorGemmKernel.macroRows(mb, cols, kb, curA, curAOff + ic * curK + pc, curK, ap, bPack,
                                    pc * curNbPad + col0 * kb, curC, cRow0 + col0, ldc, pc > 0 || curAcc, tile[worker]);
                        } else {
                            GemmPacking.packA(curA, curAOff, curTransA, curM, curK, ic, mb, pc, kb, ap, mr);
                            VectorGemmKernel.macro(mb, cols, kb, ap, bPack, pc * curNbPad + col0 * kb, curC, cRow0 + col0, ldc,
                                    pc > 0 || curAcc, tile[worker]);
                        }
                    }
                } else {
                    int pc = scalarPc;
                    int kb = Math.min(kc, curK - pc);
                    GemmPacking.packA(curA, curAOff, curTransA, curM, curK, ic, mb, pc, kb, ap, mr);
                    ScalarGemmKernel.macro(mb, col0, cols, kb, ap, bRows, curC, cRow0, ldc, pc > 0 || curAcc, scratch[worker]);
                }
            }
        }
    }
}
