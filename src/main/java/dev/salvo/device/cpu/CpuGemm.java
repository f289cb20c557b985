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
    private final int mr;
    private final int nr;
    private final int mc;
    private final int kc;
    private final int nc;

    // per-worker scratch, grown on demand (index = CpuPool worker)
    private final float[][] aPack;
    private final float[][] tile;
    private final ScalarGemmKernel.Scratch[] scratch;
    /**
     * Per worker: a product in flight and its packed op(B). Entry 0 also serves products split
     * over the whole pool (its packed B is then shared by all workers); the others are used only
     * when a batch is split across its entries.
     */
    private final Product[] products;

    // the batch split across entries, read by the pool tasks (published by CpuPool's volatile job)
    private Gemm batchG;
    private float[] batchA;
    private float[] batchB;
    private float[] batchC;
    private int batchAOff;
    private int batchBOff;
    private int batchCOff;
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
        this.mc = roundUp(mc, mr);
        this.kc = kc;
        this.nc = roundUp(nc, nr);
        int threads = pool.threads();
        this.aPack = new float[threads][0];
        this.tile = new float[threads][];
        this.scratch = new ScalarGemmKernel.Scratch[threads];
        this.products = new Product[threads];
        for (int w = 0; w < threads; w++) {
            if (this.simd) {
                tile[w] = new float[mr * nr];
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
    public synchronized void multiply(Gemm g, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        int m = g.m();
        int n = g.n();
        int k = g.k();
        int batch = g.batch();
        Objects.checkFromIndexSize(aOff, (int) Math.min(Integer.MAX_VALUE, g.aLength()), a.length);
        Objects.checkFromIndexSize(bOff, (int) Math.min(Integer.MAX_VALUE, g.bLength()), b.length);
        Objects.checkFromIndexSize(cOff, (int) Math.min(Integer.MAX_VALUE, g.cLength()), c.length);
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        boolean acc = g.accumulates();
        if (k == 0) {
            if (!acc) {
                for (int e = 0; e < batch; e++) {
                    int co = cOff + (int) (e * g.strideC());
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
            batchG = g;
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
                batchG = null;
            }
            return;
        }
        boolean parallel = threads > 1 && volume >= PARALLEL_MIN_VOLUME;
        ensureScratch(m, n, k, parallel ? threads : 1, false);
        Product p = products[0];
        try {
            for (int e = 0; e < batch; e++) {
                p.set(g, a, aOff + (int) (e * g.strideA()), b, bOff + (int) (e * g.strideB()), c,
                        cOff + (int) (e * g.strideC()));
                p.run(parallel, parallel ? pool.threads() : 1, 0);
            }
        } finally {
            p.clear();
        }
    }

    /** Entries {@code [e0, e1)} of the batch in flight, each whole, on this worker's own product and scratch. */
    private void batchTask(int task, int worker) {
        Gemm g = batchG;
        int e0 = CpuPool.bound(g.batch(), batchTasks, task);
        int e1 = CpuPool.bound(g.batch(), batchTasks, task + 1);
        Product p = products[worker];
        try {
            for (int e = e0; e < e1; e++) {
                p.set(g, batchA, batchAOff + (int) (e * g.strideA()), batchB, batchBOff + (int) (e * g.strideB()), batchC,
                        batchCOff + (int) (e * g.strideC()));
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
        int nbMax = Math.min(nc, roundUp(n, nr));
        int aNeed = Math.min(mc, roundUp(m, mr)) * kbMax;
        for (int w = 0; w < workers; w++) {
            if (aPack[w].length < aNeed) {
                aPack[w] = new float[aNeed];
            }
            if (!simd) {
                scratch[w].ensure(nbMax);
            }
            if (w == 0 || bPerWorker) {
                products[w].ensureB(k, kbMax, nbMax);
            }
        }
    }

    /** One product {@code C = op(A) op(B)} (or {@code C +=}) in flight, and the packed op(B) it uses. */
    private final class Product {
        private float[] bPack = new float[0];
        private float[][] bRows = new float[0][];

        private float[] curA;
        private float[] curB;
        private float[] curC;
        private int curAOff;
        private int curBOff;
        private int curCOff;
        private int curM;
        private int curN;
        private int curK;
        private boolean curTransA;
        private boolean curTransB;
        private boolean curAcc;
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

        void set(Gemm g, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
            curA = a;
            curB = b;
            curC = c;
            curAOff = aOff;
            curBOff = bOff;
            curCOff = cOff;
            curM = g.m();
            curN = g.n();
            curK = g.k();
            curTransA = g.transA();
            curTransB = g.transB();
            curAcc = g.accumulates();
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
            int mPanels = ceilDiv(m, mr);
            for (int jc = 0; jc < n; jc += nc) {
                int nb = Math.min(nc, n - jc);
                int nPanels = ceilDiv(nb, nr);
                // row chunks: about one per mc rows and at least two per thread (a thread that the OS
                // takes away for a while then leaves little to wait for), rounded up to a multiple of
                // the threads; column chunks only when there are fewer row chunks than threads
                int tm = Math.min(mPanels, roundUp(Math.max(ceilDiv(m, mc), 2 * threads), threads));
                int tn = Math.min(nPanels, ceilDiv(threads, tm));
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

        /**
         * Packs this task's share of the B micro-panels of the current column block: on the SIMD path
         * for every depth block (block {@code pc} from {@code pc * nbPad}, see {@link #packB}); on the
         * scalar path for the current depth block only.
         */
        private void packBTask(int task, int worker) {
            int nPanels = ceilDiv(curNb, nr);
            int p0 = CpuPool.bound(nPanels, packTasks, task);
            int p1 = CpuPool.bound(nPanels, packTasks, task + 1);
            int col0 = p0 * nr;
            int cols = Math.min(curNb, p1 * nr) - col0;
            if (simd) {
                for (int pc = 0; pc < curK; pc += kc) {
                    int kb = Math.min(kc, curK - pc);
                    packB(curB, curBOff, curTransB, curN, curK, curJc + col0, cols, pc, kb, bPack, pc * curNbPad + col0 * kb, nr);
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
            int mPanels = ceilDiv(curM, mr);
            int row0 = CpuPool.bound(mPanels, tm, ti) * mr;
            int row1 = Math.min(curM, CpuPool.bound(mPanels, tm, ti + 1) * mr);
            int nPanels = ceilDiv(curNb, nr);
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
                        packA(curA, curAOff, curTransA, curM, curK, ic, mb, pc, kb, ap, mr);
                        VectorGemmKernel.macro(mb, cols, kb, ap, bPack, pc * curNbPad + col0 * kb, curC, cRow0 + col0, ldc,
                                pc > 0 || curAcc, tile[worker]);
                    }
                } else {
                    int pc = scalarPc;
                    int kb = Math.min(kc, curK - pc);
                    packA(curA, curAOff, curTransA, curM, curK, ic, mb, pc, kb, ap, mr);
                    ScalarGemmKernel.macro(mb, col0, cols, kb, ap, bRows, curC, cRow0, ldc, pc > 0 || curAcc, scratch[worker]);
                }
            }
        }
    }

    /**
     * Packs {@code op(A)[row0:row0+rows, pc:pc+kb]} into micro-panels of {@code mr} interleaved rows:
     * {@code dst[ip*kb + p*mr + i] = op(A)[row0+ip+i][pc+p]}, rows past {@code rows} zero.
     */
    static void packA(float[] a, int aOff, boolean transA, int m, int k, int row0, int rows,
                      int pc, int kb, float[] dst, int mr) {
        for (int ip = 0; ip < rows; ip += mr) {
            int r = Math.min(mr, rows - ip);
            int base = ip * kb;
            if (!transA) {
                // A (M,K): row stride k
                int src = aOff + (row0 + ip) * k + pc;
                for (int i = 0; i < r; i++) {
                    int s = src + i * k;
                    for (int p = 0; p < kb; p++) {
                        dst[base + p * mr + i] = a[s + p];
                    }
                }
                for (int i = r; i < mr; i++) {
                    for (int p = 0; p < kb; p++) {
                        dst[base + p * mr + i] = 0f;
                    }
                }
            } else {
                // A stored (K,M): op(A)[row][p] = a[p*m + row], mr rows contiguous per p
                int src = aOff + pc * m + row0 + ip;
                for (int p = 0; p < kb; p++) {
                    int d = base + p * mr;
                    System.arraycopy(a, src + p * m, dst, d, r);
                    for (int i = r; i < mr; i++) {
                        dst[d + i] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs {@code op(B)[pc:pc+kb, col0:col0+cols]} into micro-panels of {@code nr} columns from
     * {@code dOff}: {@code dst[dOff + jp*kb + p*nr + j] = op(B)[pc+p][col0+jp+j]}, columns past
     * {@code cols} zero.
     */
    static void packB(float[] b, int bOff, boolean transB, int n, int k, int col0, int cols,
                      int pc, int kb, float[] dst, int dOff, int nr) {
        for (int jp = 0; jp < cols; jp += nr) {
            int w = Math.min(nr, cols - jp);
            int base = dOff + jp * kb;
            if (!transB) {
                // B (K,N): nr columns contiguous per p
                int src = bOff + pc * n + col0 + jp;
                for (int p = 0; p < kb; p++) {
                    int d = base + p * nr;
                    System.arraycopy(b, src + p * n, dst, d, w);
                    for (int j = w; j < nr; j++) {
                        dst[d + j] = 0f;
                    }
                }
            } else {
                // B stored (N,K): op(B)[p][col] = b[col*k + p]
                for (int j = 0; j < w; j++) {
                    int s = bOff + (col0 + jp + j) * k + pc;
                    for (int p = 0; p < kb; p++) {
                        dst[base + p * nr + j] = b[s + p];
                    }
                }
                for (int j = w; j < nr; j++) {
                    for (int p = 0; p < kb; p++) {
                        dst[base + p * nr + j] = 0f;
                    }
                }
            }
        }
    }

    /** Stores {@code mr x nr} of a tile (row stride {@code ld}) into C, adding to it if {@code acc}. */
    static void storeEdge(float[] t, int ld, int mr, int nr, float[] c, int co, int ldc, boolean acc) {
        for (int i = 0; i < mr; i++) {
            storeRow(t, i * ld, nr, c, co + i * ldc, acc);
        }
    }

    /** {@code c[co..co+n) = src[so..so+n)} or {@code +=} it if {@code acc}. */
    static void storeRow(float[] src, int so, int n, float[] c, int co, boolean acc) {
        if (acc) {
            for (int j = 0; j < n; j++) {
                c[co + j] += src[so + j];
            }
        } else {
            System.arraycopy(src, so, c, co, n);
        }
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int y) {
        return ceilDiv(x, y) * y;
    }
}
