package dev.salvo.device.cpu;

/**
 * One SGD step (momentum, Nesterov, L2 weight decay) over {@code w, g, v}, a reusable pool body
 * (no allocation per step); float64 arithmetic rounded once per stored value.
 */
final class SgdRange implements CpuPool.RangeBody {
    float[] w;
    int wo;
    float[] g;
    int go;
    float[] v;
    int vo;
    double lr;
    double mu;
    double wd;
    boolean nesterov;

    @Override
    public void run(int from, int to) {
        float[] wv = w;
        float[] gv = g;
        float[] vv = v;
        for (int k = from; k < to; k++) {
            int wi = wo + k;
            double d = gv[go + k] + wd * wv[wi];
            if (vv != null) {
                int vi = vo + k;
                float nv = (float) (mu * vv[vi] + d);
                vv[vi] = nv;
                d = nesterov ? d + mu * nv : nv;
            }
            wv[wi] = (float) (wv[wi] - lr * d);
        }
    }
}
