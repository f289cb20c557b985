package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model built in PyTorch and saved as the README's "Model files" section says (format,
 * architecture, layers.i.weight / layers.i.bias, no input tensors, no checksum) evaluates and
 * predicts in Salvo exactly as in PyTorch. Needs {@code python3} with torch; skipped (with the
 * reason) without them. The safetensors package is not needed: the script writes the file by hand,
 * byte for byte what {@code safetensors.torch.save_file} writes.
 */
class PyTorchModelTest {

    static final String SCRIPT = String.join("\n",
            "import json, struct, sys, torch",
            "out = sys.argv[1]",
            "torch.manual_seed(0)",
            "net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))",
            "x = torch.rand(40, 64) * 16",
            "with torch.no_grad():",
            "    p = torch.softmax(net(x), dim=1)",
            "linears = [m for m in net if isinstance(m, torch.nn.Linear)]",
            "tensors, layers = {}, []",
            "for i, lin in enumerate(linears):",
            "    tensors[f'layers.{i}.weight'] = lin.weight.detach()",
            "    tensors[f'layers.{i}.bias'] = lin.bias.detach()",
            "    layers.append({'type': 'dense', 'units': lin.out_features, 'activation': 'relu' if i < len(linears) - 1 else 'identity'})",
            "meta = {'format': 'salvo.mlp.v1', 'architecture': json.dumps({'inputs': 64, 'layers': layers, 'loss': 'cross-entropy'})}",
            "header, blobs, off = {'__metadata__': meta}, [], 0",
            "for name, t in tensors.items():",
            "    b = t.contiguous().to(torch.float32).numpy().astype('<f4').tobytes()",
            "    header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}",
            "    blobs.append(b)",
            "    off += len(b)",
            "h = json.dumps(header, separators=(',', ':')).encode()",
            "h += b' ' * (-len(h) % 8)",
            "with open(out + '/torch.safetensors', 'wb') as f:",
            "    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))",
            "cls = p.argmax(dim=1)",
            "with open(out + '/features.csv', 'w') as f:",
            "    for row in x.tolist():",
            "        f.write(','.join(repr(v) for v in row) + '\\n')",
            "with open(out + '/labelled.csv', 'w') as f:",
            "    for row, c in zip(x.tolist(), cls.tolist()):",
            "        f.write(','.join(repr(v) for v in row) + ',' + str(c) + '\\n')",
            "for i in range(len(x)):",
            "    print('%d,%d,%.6f' % (i, cls[i], p[i, cls[i]]))");

    @Test
    void aModelSavedFromPyTorchPredictsAsPyTorchDoes(@TempDir Path dir) throws Exception {
        String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        Process p;
        try {
            p = new ProcessBuilder(python, "-c", SCRIPT, dir.toString()).redirectErrorStream(false).start();
        } catch (IOException e) {
            Assumptions.abort("no python3: " + e.getMessage());
            return;
        }
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        Assumptions.assumeFalse(p.exitValue() != 0 && err.contains("No module named"), "python3 without torch: " + err.strip());
        assertEquals(0, p.exitValue(), err);
        List<String> want = new String(out, StandardCharsets.UTF_8).strip().lines().toList();

        Path model = dir.resolve("torch.safetensors");
        CliTest.Result r = CliTest.run("predict", "--model", model.toString(), "--input", dir.resolve("features.csv").toString(),
                "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        List<String> got = r.out().strip().lines().skip(1).toList();
        assertEquals(want.size(), got.size(), r.out());
        for (int i = 0; i < want.size(); i++) {
            String[] w = want.get(i).split(",");
            String[] g = got.get(i).split(",");
            assertEquals(w[1], g[1], "row " + i + " class: PyTorch " + want.get(i) + ", Salvo " + got.get(i));
            assertEquals(Double.parseDouble(w[2]), Double.parseDouble(g[2]), 3e-6, "row " + i + " probability");
        }

        // eval on the rows labelled with PyTorch's own predictions: 100%
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--data", "csv:" + dir.resolve("labelled.csv"),
                "--no-header", "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("accuracy 100.00%"), e.out());
    }
}
