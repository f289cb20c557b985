package dev.salvo.train;

import dev.salvo.device.AdamStep;
import dev.salvo.device.SgdStep;
import java.util.Locale;
import java.util.Set;

/** Optimizers with PyTorch semantics; weight decay applies to every parameter, biases included. */
public sealed interface Optimizer {

    double weightDecay();

    /** Optimizer-state buffers (each the size of the parameters) this optimizer keeps on the device. */
    int stateBuffers();

    String describe();

    /** {@code torch.optim.SGD}: plain when momentum is 0, heavy-ball otherwise, Nesterov on request. */
    record Sgd(double momentum, boolean nesterov, double weightDecay) implements Optimizer {
        public Sgd {
            check("momentum", momentum, 0, 1);
            check("weight decay", weightDecay, 0, Double.POSITIVE_INFINITY);
            if (nesterov && momentum == 0) {
                throw new IllegalArgumentException("--momentum: Nesterov momentum needs a momentum > 0");
            }
        }

        public SgdStep step(double lr) {
            return new SgdStep(lr, momentum, nesterov, weightDecay);
        }

        @Override
        public int stateBuffers() {
            return momentum == 0 ? 0 : 1;
        }

        @Override
        public String describe() {
            return (nesterov ? "nesterov" : momentum == 0 ? "sgd" : "momentum") + (momentum == 0 ? "" : " " + momentum)
                    + (weightDecay == 0 ? "" : " wd " + weightDecay);
        }
    }

    /** {@code torch.optim.Adam} (L2 decay in the gradient) or, when decoupled, {@code torch.optim.AdamW}. */
    record Adam(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) implements Optimizer {
        public Adam {
            check("beta1", beta1, 0, 1);
            check("beta2", beta2, 0, 1);
            if (!(eps > 0) || !Double.isFinite(eps)) {
                throw new IllegalArgumentException("--eps must be a positive finite number, got " + eps);
            }
            check("weight decay", weightDecay, 0, Double.POSITIVE_INFINITY);
        }

        public AdamStep step(double lr, long t) {
            return new AdamStep(lr, beta1, beta2, eps, weightDecay, decoupled, t);
        }

        @Override
        public int stateBuffers() {
            return 2;
        }

        @Override
        public String describe() {
            return (decoupled ? "adamw" : "adam") + " betas (" + beta1 + ", " + beta2 + ")" + (eps == 1e-8 ? "" : " eps " + eps)
                    + (weightDecay == 0 ? "" : " wd " + weightDecay);
        }
    }

    private static void check(String what, double v, double lo, double hi) {
        if (!(Double.isFinite(v) && v >= lo && v < hi)) {
            throw new IllegalArgumentException(what + " must be a finite number in [" + lo + ", " + hi + "), got " + v);
        }
    }

    static Optimizer sgd() {
        return new Sgd(0, false, 0);
    }

    static Optimizer momentum(double m) {
        return new Sgd(m, false, 0);
    }

    static Optimizer adam() {
        return new Adam(0.9, 0.999, 1e-8, 0, false);
    }

    static Optimizer adamW(double weightDecay) {
        return new Adam(0.9, 0.999, 1e-8, weightDecay, true);
    }

    /**
     * By command-line name: {@code sgd}, {@code momentum}, {@code nesterov}, {@code adam},
     * {@code adamw}; {@code momentum} is used by momentum/nesterov (0.9 when absent), weight decay by all
     * (AdamW defaults to 0.01 like PyTorch).
     */
    static Optimizer parse(String name, Double momentum, Double weightDecay) {
        return parse(name, momentum, weightDecay, null, null, null);
    }

    /**
     * As {@link #parse(String, Double, Double)}, with Adam's {@code beta1}, {@code beta2} and
     * {@code eps} (null: 0.9, 0.999, 1e-8; given for an SGD variant: an error naming the option).
     */
    static Optimizer parse(String name, Double momentum, Double weightDecay, Double beta1, Double beta2, Double eps) {
        String kind = name.trim().toLowerCase(Locale.ROOT);
        boolean adam = kind.equals("adam") || kind.equals("adamw");
        String[] names = {"--beta1", "--beta2", "--eps"};
        Double[] given = {beta1, beta2, eps};
        for (int i = 0; i < 3; i++) {
            if (given[i] == null) {
                continue;
            }
            if (!adam && Set.of("sgd", "momentum", "nesterov").contains(kind)) {
                throw new IllegalArgumentException(names[i] + " applies to adam and adamw only, not --optimizer " + kind);
            }
            double v = given[i];
            if (i < 2 && !(Double.isFinite(v) && v >= 0 && v < 1)) {
                throw new IllegalArgumentException(names[i] + " must be a finite number in [0, 1), got " + v);
            }
            if (i == 2 && !(v > 0 && Double.isFinite(v))) {
                throw new IllegalArgumentException("--eps must be a positive finite number, got " + v);
            }
        }
        double b1 = beta1 == null ? 0.9 : beta1;
        double b2 = beta2 == null ? 0.999 : beta2;
        double e = eps == null ? 1e-8 : eps;
        double wd = weightDecay == null ? 0 : weightDecay;
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "sgd" -> new Sgd(momentum == null ? 0 : momentum, false, wd);
            case "momentum" -> new Sgd(momentum == null ? 0.9 : momentum, false, wd);
            case "nesterov" -> new Sgd(momentum == null ? 0.9 : momentum, true, wd);
            case "adam" -> new Adam(b1, b2, e, wd, false);
            case "adamw" -> new Adam(b1, b2, e, weightDecay == null ? 0.01 : wd, true);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name
                    + "' (expected sgd, momentum, nesterov, adam or adamw)");
        };
    }
}
