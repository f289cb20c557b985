package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.data.InputTransform;
import dev.salvo.data.Normalization;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import dev.salvo.train.Evaluator;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {

    static final NetworkSpec NET = NetworkSpec.input(12).dense(16, Activation.TANH).dense(8, Activation.LEAKY_RELU).dense(4).build();

    @Test
    void roundTripKeepsArchitectureParametersAndTransform(@TempDir Path dir) {
        float[] p = Model.initialParameters(NET, 3);
        Dataset d = Check.clusters("m", 50, 12, 4, 1);
        InputTransform t = Normalization.STANDARDIZE.fit(d);
        Path f = dir.resolve("m.safetensors");
        ModelFile.save(f, NET, p, t, Map.of("dataset", "m"));
        ModelFile.Loaded l = ModelFile.load(f);
        assertEquals(NET, l.spec());
        assertArrayEquals(p, l.parameters());
        assertArrayEquals(t.shift(), l.transform().shift());
        assertArrayEquals(t.scale(), l.transform().scale());
        assertEquals("m", l.metadata().get("dataset"));
        // tensors are named and shaped as documented (PyTorch nn.Linear layout)
        SafeTensors.Contents c = SafeTensors.read(f);
        assertArrayEquals(new int[] {16, 12}, c.get("layers.0.weight").shape());
        assertArrayEquals(new int[] {4}, c.get("layers.2.bias").shape());
        ParamLayout.Tensor w1 = ParamLayout.of(NET).tensor("layers.1.weight");
        assertEquals(p[w1.offset() + 5], c.get("layers.1.weight").data()[5]);
    }

    @Test
    void tensorsThatDoNotMatchTheArchitectureAreRefused(@TempDir Path dir) {
        Path f = dir.resolve("bad.safetensors");
        ModelFile.save(f, NET, Model.initialParameters(NET, 3), InputTransform.identity(12), Map.of());
        SafeTensors.Contents c = SafeTensors.read(f);
        List<SafeTensors.Tensor> ts = new ArrayList<>();
        for (SafeTensors.Tensor t : c.tensors()) {
            ts.add(t.name().equals("layers.1.weight") ? new SafeTensors.Tensor(t.name(), new int[] {16, 8}, t.data()) : t);
        }
        SafeTensors.write(f, c.metadata(), ts);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains("layers.1.weight") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    /** A model trained on one device evaluates to the same accuracy on every other. */
    @Test
    void aModelEvaluatesTheSameOnEveryDevice(@TempDir Path dir) {
        Dataset all = Check.clusters("x", 600, 12, 4, 9);
        Dataset.Split s = all.stratifiedSplit(0.3, 1, "train", "test");
        Path f = dir.resolve("x.safetensors");
        try (Device cpu = Devices.open("cpu").device(); Model m = new Model(cpu, NET, 1, 32);
             Trainer t = new Trainer(m, TrainConfig.defaults().withEpochs(3).withLearningRate(0.01))) {
            t.fit(s.first(), null, TrainListener.NONE);
            ModelFile.save(f, NET, m.parametersToHost(), InputTransform.identity(12), Map.of());
        }
        ModelFile.Loaded l = ModelFile.load(f);
        List<Double> acc = new ArrayList<>();
        for (String dev : List.of("cpu", "reference", "opencl")) {
            try (Device d = Devices.open(dev).device(); Model m = new Model(d, l.spec(), l.parameters(), 64)) {
                acc.add(Evaluator.run(m, s.second()).accuracy());
            } catch (DeviceException.Unavailable e) {
                // OpenCL missing here: the CPU and the reference still agree
            }
        }
        for (double a : acc) {
            assertEquals(acc.get(0), a, 0.005, "accuracy on every device: " + acc);
        }
    }
}
