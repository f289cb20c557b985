package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The GPT shape check on a small shape: the parameter count of the formula, a first loss near ln V, every step timed. */
class GptShapeTest {

    @Test
    void smallGptBuildsAndSteps() {
        StringWriter buf = new StringWriter();
        int l = 2;
        int c = 32;
        int t = 16;
        int v = 100;
        try (Device d = CpuProvider.open(CpuSettings.load()); PrintWriter out = new PrintWriter(buf)) {
            GptShape.Result r = GptShape.run(d, l, 2, c, t, v, 3, 3, out);
            // wte + wpe + per block (2 layer norms, c_attn, c_proj, c_fc, mlp c_proj) + ln_f; lm_head is tied
            long perBlock = 2L * 2 * c + (3L * c * c + 3 * c) + ((long) c * c + c) + (4L * c * c + 4 * c) + (4L * c * c + c);
            assertEquals((long) v * c + (long) t * c + l * perBlock + 2L * c, r.parameters());
            assertEquals(3, r.stepSeconds().size(), buf.toString());
            assertTrue(Math.abs(r.firstLoss() - Math.log(v)) < 0.1, "the first loss of a GPT-2 initialisation is about ln V: "
                    + r.firstLoss());
            assertTrue(r.memory().startsWith("memory: "), r.memory());
        }
    }
}
