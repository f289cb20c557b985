package dev.salvo.train;

import java.util.ArrayList;
import java.util.List;

/** Where training stands: everything a checkpoint must hold besides the device buffers. */
final class Progress {
    int epoch;
    int stepInEpoch;
    long step;
    long samples;
    double lr;
    double lossSum;
    int lossCount;
    double epochSeconds;
    double bestLoss = Double.POSITIVE_INFINITY;
    int sinceBest;
    final int[] order;
    final List<EpochStats> history = new ArrayList<>();
    final List<String> devices = new ArrayList<>();

    Progress(int rows) {
        order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
    }

    Progress(int[] order) {
        this.order = order;
    }

    /** The progress {@code s} holds (its order copied); epochs without a recorded device get "". */
    static Progress of(Checkpoint.Snapshot s) {
        Progress p = new Progress(s.order().clone());
        p.epoch = s.epoch();
        p.stepInEpoch = s.stepInEpoch();
        p.step = s.step();
        p.samples = s.samples();
        p.lr = s.lr();
        p.lossSum = s.lossSum();
        p.lossCount = s.lossCount();
        p.epochSeconds = s.epochSeconds();
        p.bestLoss = s.bestLoss();
        p.sinceBest = s.sinceBest();
        p.history.addAll(s.history());
        for (int i = 0; i < s.history().size(); i++) {
            p.devices.add(i < s.epochDevices().size() ? s.epochDevices().get(i) : "");
        }
        return p;
    }
}
