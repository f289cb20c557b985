package dev.salvo.device;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds providers with {@link ServiceLoader} and picks a device.
 *
 * <p>The selector comes from, in order: the caller ({@code --device}), the system property
 * {@code salvo.device}, the environment variable {@code SALVO_DEVICE}, else {@code auto}. Forms:
 * {@code auto}, {@code <provider>} (its device 0) or {@code <provider>:<index>}.
 *
 * <p>{@code auto} walks the providers by {@link DeviceProvider#priority()} (cuda, opencl, then
 * cpu) and takes the first GPU or accelerator device; failing that, the CPU provider. OpenCL
 * devices that are CPUs (PoCL) are used only when named. A device named explicitly that is not
 * available is an error with the reason; there is never a silent fallback.
 */
public final class Devices {

    /** Providers Salvo knows of even when their jar is absent, so a selector names them clearly. */
    private static final List<String> KNOWN = List.of("cuda", "opencl", "cpu", "reference");

    private Devices() {
    }

    /** The chosen device and one line per provider saying why it was or was not used. */
    public record Selection(Device device, List<String> report) {
    }

    /** A provider whose class failed to load: listed as unavailable with the loader's message. */
    private record Broken(String reason) implements DeviceProvider {
        @Override
        public String name() {
            return "broken-provider";
        }

        @Override
        public int priority() {
            return Integer.MAX_VALUE;
        }

        @Override
        public Probe probe() {
            return Probe.unavailable(name(), reason);
        }

        @Override
        public Device open(int index) {
            throw new DeviceException.Unavailable(name(), reason);
        }
    }

    /** Installed providers in {@code auto} order. */
    public static List<DeviceProvider> providers() {
        List<DeviceProvider> list = new ArrayList<>();
        Iterator<DeviceProvider> it = ServiceLoader.load(DeviceProvider.class).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                list.add(it.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                list.add(new Broken(e.getMessage()));
            }
        }
        list.sort(Comparator.comparingInt(DeviceProvider::priority).thenComparing(DeviceProvider::name));
        return list;
    }

    /** Probes every installed provider (in {@code auto} order). */
    public static List<Probe> probeAll() {
        List<Probe> probes = new ArrayList<>();
        for (DeviceProvider p : providers()) {
            probes.add(safeProbe(p));
        }
        for (String k : KNOWN) {
            if (probes.stream().noneMatch(p -> p.provider().equals(k))) {
                probes.add(Probe.unavailable(k, "provider not installed (no " + k + " provider on the class path)"));
            }
        }
        return probes;
    }

    /** Devices the provider named {@code provider} has here (0 when it is missing or unavailable). */
    public static int deviceCount(String provider) {
        for (DeviceProvider p : providers()) {
            if (p.name().equals(provider)) {
                Probe probe = safeProbe(p);
                return probe.isAvailable() ? probe.devices().size() : 0;
            }
        }
        return 0;
    }

    private static Probe safeProbe(DeviceProvider p) {
        try {
            return p.probe();
        } catch (RuntimeException | LinkageError e) {
            return Probe.unavailable(p.name(), e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** The selector in force when the caller gives none (or null). */
    public static String defaultSelector() {
        String s = System.getProperty("salvo.device");
        if (s == null || s.isBlank()) {
            s = System.getenv("SALVO_DEVICE");
        }
        return s == null || s.isBlank() ? "auto" : s.trim();
    }

    /** Parsed selector: provider name (or "auto") and index (-1 when not given). */
    public record Selector(String provider, int index) {

        public static Selector parse(String spec) {
            String s = spec.trim().toLowerCase(Locale.ROOT);
            if (s.equals("auto")) {
                return new Selector("auto", -1);
            }
            String name = s;
            int index = -1;
            int colon = s.indexOf(':');
            if (colon >= 0) {
                name = s.substring(0, colon);
                try {
                    index = Integer.parseInt(s.substring(colon + 1));
                } catch (NumberFormatException e) {
                    index = -2;
                }
                if (index < 0) {
                    throw new IllegalArgumentException("invalid device '" + spec
                            + "' (expected auto, cpu, opencl[:N], cuda[:N] or reference, N a device index >= 0)");
                }
            }
            List<String> names = new ArrayList<>(KNOWN);
            for (DeviceProvider p : providers()) {
                if (!names.contains(p.name())) {
                    names.add(p.name());
                }
            }
            if (!names.contains(name)) {
                throw new IllegalArgumentException("unknown device '" + spec + "' (expected auto, "
                        + String.join(", ", names.stream().map(n -> n.equals("cpu") || n.equals("reference") ? n : n + "[:N]").toList()) + ")");
            }
            return new Selector(name, index);
        }
    }

    /**
     * Opens the device named by {@code spec} (null: {@link #defaultSelector()}).
     *
     * @throws IllegalArgumentException for a malformed or unknown selector
     * @throws DeviceException.Unavailable when the named device cannot be used
     */
    public static Selection open(String spec) {
        String s = spec == null || spec.isBlank() ? defaultSelector() : spec;
        Selector sel = Selector.parse(s);
        List<String> report = new ArrayList<>();
        if (!sel.provider().equals("auto")) {
            return openNamed(sel, report);
        }
        Probe fallback = null;
        DeviceProvider fallbackProvider = null;
        List<DeviceProvider> providers = providers();
        for (DeviceProvider p : providers) {
            Probe probe = safeProbe(p);
            if (!probe.isAvailable()) {
                report.add(p.name() + ": not used: unavailable: " + probe.unavailableReason());
                continue;
            }
            for (DeviceInfo d : probe.devices()) {
                if (d.kind() == DeviceKind.GPU || d.kind() == DeviceKind.ACCELERATOR) {
                    try {
                        Device dev = p.open(d.index());
                        report.add(0, "using " + d.id() + " (" + d.name() + "): first GPU/accelerator in auto order");
                        addNotConsidered(report, providers, p);
                        return new Selection(dev, report);
                    } catch (DeviceException e) {
                        report.add(d.id() + ": not used: " + e.getMessage());
                    }
                }
            }
            if (p.name().equals("cpu") && fallback == null) {
                fallback = probe;
                fallbackProvider = p;
            } else if (!probe.devices().isEmpty()) {
                report.add(p.name() + ": not used: " + (p.name().equals("reference")
                        ? "the float64 reference is never chosen by auto"
                        : "only CPU devices (" + probe.devices().get(0).name() + "); name it with --device "
                        + probe.devices().get(0).id()));
            }
        }
        for (String k : KNOWN) {
            if (providers.stream().noneMatch(p -> p.name().equals(k))) {
                report.add(k + ": not used: provider not installed");
            }
        }
        if (fallbackProvider == null) {
            throw new DeviceException.Unavailable("auto device", "no provider has a usable device: " + String.join("; ", report));
        }
        Device dev = fallbackProvider.open(fallback.devices().get(0).index());
        report.add(0, "using " + dev.info().id() + " (" + dev.info().name() + "): no GPU or accelerator available");
        return new Selection(dev, report);
    }

    private static void addNotConsidered(List<String> report, List<DeviceProvider> providers, DeviceProvider chosen) {
        boolean after = false;
        for (DeviceProvider p : providers) {
            if (after) {
                report.add(p.name() + ": not used: " + chosen.name() + " comes first in auto order");
            }
            after |= p == chosen;
        }
    }

    private static Selection openNamed(Selector sel, List<String> report) {
        DeviceProvider provider = null;
        List<DeviceProvider> providers = providers();
        for (DeviceProvider p : providers) {
            if (p.name().equals(sel.provider())) {
                provider = p;
            }
        }
        String id = sel.provider() + (sel.index() >= 0 ? ":" + sel.index() : "");
        if (provider == null) {
            throw new DeviceException.Unavailable(id, "provider not installed (no " + sel.provider() + " provider on the class path)");
        }
        Probe probe = safeProbe(provider);
        if (!probe.isAvailable()) {
            throw new DeviceException.Unavailable(id, probe.unavailableReason());
        }
        int index = Math.max(0, sel.index());
        if (probe.devices().stream().noneMatch(d -> d.index() == index)) {
            throw new DeviceException.Unavailable(id, "no such device; " + sel.provider() + " has "
                    + probe.devices().stream().map(DeviceInfo::id).toList());
        }
        Device dev = provider.open(index);
        report.add("using " + dev.info().id() + " (" + dev.info().name() + "): named explicitly");
        for (DeviceProvider p : providers) {
            if (p != provider) {
                report.add(p.name() + ": not used: device " + id + " was named explicitly");
            }
        }
        return new Selection(dev, report);
    }
}
