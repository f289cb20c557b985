package dev.salvo.device.cpu;

/**
 * The packing and edge-store routines of {@link CpuGemm}: op(A) into interleaved {@code mr}-row
 * micro-panels, op(B) into {@code nr}-column micro-panels (both zero-padded), and partial tiles
 * into C.
 */
final class GemmPacking {

    private GemmPacking() {
    }

    /** Elements {@code batch} matrices of {@code matrix} elements at {@code stride} span, capped at an int. */
    static int span(int batch, long stride, long matrix) {
        return (int) Math.min(Integer.MAX_VALUE, batch == 0 ? 0 : (batch - 1) * stride + matrix);
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
        if (!transB) {
            // B (K,N): row by row, so that each row's run is read in order (a wide product's rows lie
            // far apart; reading nr columns of every row in turn, panel by panel, defeats the prefetcher)
            for (int p = 0; p < kb; p++) {
                int src = bOff + (pc + p) * n + col0;
                int d = dOff + p * nr;
                for (int jp = 0; jp < cols; jp += nr) {
                    int w = Math.min(nr, cols - jp);
                    int dp = d + jp * kb;
                    System.arraycopy(b, src + jp, dst, dp, w);
                    for (int j = w; j < nr; j++) {
                        dst[dp + j] = 0f;
                    }
                }
            }
            return;
        }
        for (int jp = 0; jp < cols; jp += nr) {
            int w = Math.min(nr, cols - jp);
            int base = dOff + jp * kb;
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

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    static int roundUp(int x, int y) {
        return ceilDiv(x, y) * y;
    }
}
