package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.device.Activation;
import dev.salvo.device.Counters;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import org.junit.jupiter.api.Test;

/** The device-resident dataset: when it is chosen, what it copies, and that it evaluates like staged data. */
class ResidentDataTest {

    static final NetworkSpec NET = NetworkSpec.input(12).dense(16, Activation.RELU).dense(4).build();

    @Test
    void optionIsParsedWithAClearError() {
        assertEquals(TrainConfig.ResidentData.ON, TrainConfig.ResidentData.parse(" On "));
        assertEquals(TrainConfig.ResidentData.AUTO, TrainConfig.defaults().residentData());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.ResidentData.parse("yes"));
        assertEquals("--resident-data must be auto, on or off, got 'yes'", e.getMessage());
    }

    @Test
    void autoKeepsDataResidentOnlyWhenItFitsAQuarterOfDeviceMemory() {
        Dataset data = Check.clusters("fit", 100, 12, 4, 1);
        try (Device d = CpuProvider.open(CpuSettings.load()); Model m = new Model(d, NET, 1, 8)) {
            long memory = d.info().memoryBytes();
            long bytes = Batcher.residentBytes(m, data);
            assertEquals(100 * 12 * 4 + 100 * 4 + 100 * 4, bytes, "features, labels and the order");
            assertTrue(Batcher.chooseResident(TrainConfig.ResidentData.AUTO, m, data, 0));
            long justFits = (long) (Batcher.RESIDENT_SHARE * memory) - bytes;
            assertTrue(Batcher.chooseResident(TrainConfig.ResidentData.AUTO, m, data, justFits));
            assertFalse(Batcher.chooseResident(TrainConfig.ResidentData.AUTO, m, data, justFits + 1));
            assertFalse(Batcher.chooseResident(TrainConfig.ResidentData.OFF, m, data, 0));
            assertTrue(Batcher.chooseResident(TrainConfig.ResidentData.ON, m, data, Long.MAX_VALUE / 2));
        }
    }

    /** Two epochs: the data and the validation set go up once, the order once per epoch; evaluation agrees with staged batches. */
    @Test
    void residentFitUploadsTheDataOnceAndTheOrderOncePerEpoch() {
        Dataset train = Check.clusters("train", 100, 12, 4, 2);
        Dataset val = Check.clusters("val", 30, 12, 4, 3);
        TrainConfig cfg = TrainConfig.defaults().withBatchSize(8).withEpochs(2).withLossEvery(1000)
                .withResidentData(TrainConfig.ResidentData.ON);
        try (Device d = CpuProvider.open(CpuSettings.load()); Model m = new Model(d, NET, 1, 8); Trainer t = new Trainer(m, cfg)) {
            Counters before = d.counters();
            History h = t.fit(train, val, TrainListener.NONE);
            Counters c = d.counters().minus(before);
            long data = 100 * 12 * 4 + 100 * 4;
            long order = 100 * 4;
            long valData = 30 * 12 * 4 + 30 * 4 + 30 * 4; // features, labels, natural order (once)
            assertEquals(data + 2 * order + valData, c.bytesToDevice(), "bytes to the device over two epochs");
            assertTrue(t.dataResident());
            // staged evaluation (a fresh host-staged pass) gives the same figures as the resident one
            Evaluator.Report staged = Evaluator.run(m, val);
            assertEquals(staged.loss(), h.last().valLoss(), 0.0);
            assertEquals(staged.accuracy(), h.last().valAccuracy(), 0.0);
            assertEquals(staged.loss(), t.evaluate(val).loss(), 0.0);
        }
    }
}
