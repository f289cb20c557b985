package dev.salvo.gpu;

import dev.salvo.device.DeviceContract;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.Op;
import dev.salvo.device.OpCheck;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.Tolerance;
import dev.salvo.device.ReferenceOps;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.MatmulOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tensor-core matmul ({@code matmul.tf32=true}, TF32 operands, FP32 accumulation) against the
 * float64 reference within {@link Tolerance#gemmTf32}: ragged shapes that are not multiples of the
 * 128x128x16 block tile, every transpose, K up to 4097, the bias + activation epilogue, NaN-poisoned
 * outputs, and every sample of the matmul declaration. Skipped with the reason where there is no
 * CUDA device with compute capability 8.0+.
 */
class CudaTf32Test {

    static Device dev;
    static String unavailable;

    @BeforeAll
    static void open() {
        String old = System.getProperty("salvo.cuda.matmul.tf32");
        System.setProperty("salvo.cuda.matmul.tf32", "true");
        try {
            dev = Devices.open("cuda:0").device();
        } catch (DeviceException.Unavailable e) {
            if (DeviceContract.required("cuda")) {
                throw new AssertionError("SALVO_REQUIRE lists cuda but the TF32 device is unavailable: " + e.getMessage());
            }
            unavailable = "cuda with TF32 unavailable: " + e.reason();
        } finally {
            if (old == null) {
                System.clearProperty("salvo.cuda.matmul.tf32");
            } else {
                System.setProperty("salvo.cuda.matmul.tf32", old);
            }
        }
    }

    @BeforeEach
    void needCuda() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
    }

    @AfterAll
    static void close() {
        if (dev != null) {
            dev.close();
        }
    }

    private static double[] random(Random r, long n) {
        double[] a = new double[(int) n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private DeviceBuffer upload(double[] h) {
        DeviceBuffer b = dev.allocFloat(h.length);
        dev.upload(h, b);
        return b;
    }

    /**
     * Every sample of the matmul declaration (batches and beta = 1 among them, which stay on FP32
     * products), and each once more with a NaN planted, within the TF32 bound: the declared
     * comparison ({@link OpCheck}) with {@link Tolerance#TF32_OPERANDS} added to each product.
     */
    @TestFactory
    Stream<DynamicTest> declaredSamplesWithinTheTf32Bound() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
        long seed = System.nanoTime();
        Random r = new Random(seed);
        OpTolerance tf32 = new OpTolerance.MatrixProduct(MatmulOps::gemm, Tolerance.TF32_OPERANDS, "TF32 operands");
        List<DynamicTest> tests = new ArrayList<>();
        for (Op.Sample s : MatmulOps.MATMUL.samples(r)) {
            for (Op.Sample v : List.of(s, OpCheck.withNaN(MatmulOps.MATMUL, s, r))) {
                tests.add(DynamicTest.dynamicTest(v.label(), () -> {
                    for (OpCheck.Result res : OpCheck.check(dev, MatmulOps.MATMUL, v, tf32)) {
                        assertTrue(res.pass(), res.describe() + " (seed " + seed + ")");
                    }
                }));
            }
        }
        return tests.stream();
    }

    @ParameterizedTest(name = "{0}x{1}x{2} transA={3} transB={4} bias={5}")
    @CsvSource({
            "1, 1, 1, false, false, false",
            "130, 67, 7, false, false, true",
            "128, 128, 64, false, false, false",
            "257, 129, 1000, false, true, true",
            "200, 300, 1000, true, false, false",
            "64, 33, 4097, true, true, true",
            "512, 512, 512, false, false, true",
            "0, 5, 3, false, false, false",
            "5, 7, 0, false, false, true",
    })
    void matchesTheReferenceWithinTheTf32Bound(int m, int n, int k, boolean ta, boolean tb, boolean withBias) {
        Gemm g = new Gemm(m, n, k, ta, tb);
        Random r = new Random(31L * m + 7L * n + k);
        double[] a = random(r, g.aLength());
        double[] b = random(r, g.bLength());
        double[] bias = withBias ? random(r, n) : null;
        double[] ref = ReferenceOps.matmul(g, a, b, bias);
        try (DeviceBuffer da = upload(a); DeviceBuffer db = upload(b); DeviceBuffer dbias = bias == null ? null : upload(bias);
             DeviceBuffer z = dev.allocFloat(g.cLength()); DeviceBuffer y = dev.allocFloat(g.cLength())) {
            dev.run(ElementwiseOps.fill(z, Double.NaN));
            dev.run(ElementwiseOps.fill(y, Double.NaN));
            dev.run(MatmulOps.matmul(g, da, db, dbias, Activation.RELU, z, y));
            float[] got = new float[(int) g.cLength()];
            dev.download(z, got);
            Tolerance.Worst w = Tolerance.gemmTf32(g, a, b, bias, ref, got);
            assertTrue(w.pass(), () -> "TF32 matmul " + g + ": " + w);
            float[] act = new float[got.length];
            dev.download(y, act);
            for (int i = 0; i < act.length; i++) {
                assertTrue(act[i] == Math.max(got[i], 0f), "relu epilogue at " + i);
            }
        }
    }
}
