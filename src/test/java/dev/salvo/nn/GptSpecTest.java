package dev.salvo.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.InputTransform;
import dev.salvo.io.ModelFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPT as a graph: nanoGPT's names and shapes, its JSON and model-file round trips, and a bad tie refused. */
class GptSpecTest {

    @Test
    void namesShapesAndTying() {
        NetworkSpec g = Gpt.spec(2, 4, 32, 16, 70);
        ParamLayout p = ParamLayout.of(g);
        List<String> names = p.tensors().stream().map(ParamLayout.Tensor::name).toList();
        assertEquals("wte.weight", names.get(0));
        assertEquals("wpe.weight", names.get(1));
        assertTrue(names.contains("h.1.attn.c_attn.weight") && names.contains("h.0.mlp.c_proj.bias") && names.contains("ln_f.weight"));
        assertTrue(names.stream().noneMatch(n -> n.startsWith("lm_head")), "lm_head is tied: no weight of its own");
        assertArrayEquals(new int[] {96, 32}, p.tensor("h.0.attn.c_attn.weight").shape());
        assertArrayEquals(new int[] {16, 70}, g.vertices().get(g.vertices().size() - 1).shape());
        assertEquals(16, g.positions());
        assertEquals(70, g.classes());
        assertEquals(DecayPolicy.MATRICES, g.decay());
    }

    @Test
    void jsonAndModelFileRoundTrip(@TempDir Path dir) {
        NetworkSpec g = Gpt.spec(1, 2, 16, 8, 11);
        NetworkSpec back = NetworkJson.parse(NetworkJson.write(g));
        assertEquals(g, back);
        assertEquals(NetworkJson.write(g), NetworkJson.write(back));
        assertEquals(DecayPolicy.MATRICES, back.decay());
        float[] params = ParamLayout.initialParameters(g, 3);
        Path f = dir.resolve("gpt.safetensors");
        ModelFile.save(f, g, params, InputTransform.identity(8), Map.of());
        ModelFile.Loaded l = ModelFile.load(f);
        assertEquals(g, l.spec());
        assertArrayEquals(params, l.parameters());
    }

    @Test
    void aTieToAMissingOrMisshapenParameterIsRefused() {
        String base = "{\"input\":[4],\"layers\":[{\"type\":\"embedding\",\"name\":\"wte\",\"vocab\":5,\"dim\":3},"
                + "{\"type\":\"dense\",\"units\":%d,\"bias\":false,\"tie\":\"%s\"}]}";
        NetworkSpec ok = NetworkJson.parse(String.format(base, 5, "wte.weight"));
        assertEquals(1, ParamLayout.of(ok).tensors().size());
        NetworkSpec.Invalid missing = assertThrows(NetworkSpec.Invalid.class,
                () -> NetworkJson.parse(String.format(base, 5, "wte.bias")));
        assertTrue(missing.getMessage().contains("layers[1].tie") && missing.getMessage().contains("no parameter named"),
                missing.getMessage());
        NetworkSpec.Invalid shape = assertThrows(NetworkSpec.Invalid.class,
                () -> NetworkJson.parse(String.format(base, 4, "wte.weight")));
        assertTrue(shape.getMessage().contains("of shape (4,3)"), shape.getMessage());
    }
}
