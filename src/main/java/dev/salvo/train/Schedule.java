package dev.salvo.train;

import java.util.Locale;

/**
 * Learning-rate schedules over {@code totalSteps} steps, each with an optional linear warm-up over
 * the first {@code warmupSteps} steps (from {@code lr/warmup} up to {@code lr}).
 */
public sealed interface Schedule {

    int warmupSteps();

    /** Learning rate of step {@code step} (0-based) of {@code totalSteps}, in epoch {@code epoch} (0-based). */
    default double lr(double base, long step, long totalSteps, int epoch) {
        if (step < warmupSteps()) {
            return base * (step + 1) / warmupSteps();
        }
        return afterWarmup(base, step, totalSteps, epoch);
    }

    double afterWarmup(double base, long step, long totalSteps, int epoch);

    String describe();

    record Constant(int warmupSteps) implements Schedule {
        @Override
        public double afterWarmup(double base, long step, long totalSteps, int epoch) {
            return base;
        }

        @Override
        public String describe() {
            return "constant" + warm(warmupSteps);
        }
    }

    /** Multiplies the rate by {@code gamma} every {@code everyEpochs} epochs (PyTorch {@code StepLR}). */
    record Step(int everyEpochs, double gamma, int warmupSteps) implements Schedule {
        public Step {
            if (everyEpochs < 1) {
                throw new IllegalArgumentException("--lr-step-epochs must be at least 1, got " + everyEpochs);
            }
            if (!(gamma > 0 && gamma <= 1)) {
                throw new IllegalArgumentException("--lr-gamma must be in (0, 1], got " + gamma);
            }
        }

        @Override
        public double afterWarmup(double base, long step, long totalSteps, int epoch) {
            return base * Math.pow(gamma, epoch / everyEpochs);
        }

        @Override
        public String describe() {
            return "step x" + gamma + " every " + everyEpochs + " epochs" + warm(warmupSteps);
        }
    }

    /** Cosine decay from the base rate to {@code minFactor * base} at the last step. */
    record Cosine(double minFactor, int warmupSteps) implements Schedule {
        public Cosine {
            if (!(minFactor >= 0 && minFactor <= 1)) {
                throw new IllegalArgumentException("--lr-min-factor must be in [0, 1], got " + minFactor);
            }
        }

        @Override
        public double afterWarmup(double base, long step, long totalSteps, int epoch) {
            long span = Math.max(1, totalSteps - warmupSteps - 1);
            double t = Math.min(1.0, (double) (step - warmupSteps) / span);
            double min = base * minFactor;
            return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
        }

        @Override
        public String describe() {
            return "cosine" + warm(warmupSteps);
        }
    }

    private static String warm(int w) {
        return w > 0 ? " after " + w + " warm-up steps" : "";
    }

    static Schedule parse(String name, int warmupSteps, int stepEpochs, double gamma, double minFactor) {
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("--warmup must be 0 or more steps, got " + warmupSteps);
        }
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "constant" -> new Constant(warmupSteps);
            case "step" -> new Step(stepEpochs, gamma, warmupSteps);
            case "cosine" -> new Cosine(minFactor, warmupSteps);
            default -> throw new IllegalArgumentException("unknown schedule '" + name + "' (expected constant, step or cosine)");
        };
    }
}
