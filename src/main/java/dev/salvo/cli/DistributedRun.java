package dev.salvo.cli;

import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.dist.Communicator;
import dev.salvo.dist.DistributedException;
import dev.salvo.dist.Launch;
import dev.salvo.dist.Mpi;
import dev.salvo.dist.Nccl;
import dev.salvo.train.DataParallel;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code salvo train} as one rank of an {@code mpirun} job: checks the launch before any device
 * is opened (world size against the global batch, one GPU per rank, a JDK and library that can
 * call MPI), initializes MPI, picks this rank's device, checks at start-up that every rank trains
 * the same thing ({@link #agree}), prints the rank line, and ends the whole job when one rank
 * fails ({@link #fail}). Only rank 0 prints progress and writes files ({@link #writer()}).
 */
final class DistributedRun implements AutoCloseable {

    /** The run of this process, while one is active (Main's error handler ends the job through it). */
    private static volatile DistributedRun current;

    private final Launch launch;
    private final String device;
    private final boolean ownGpu;
    private Communicator comm;
    private boolean closed;

    private DistributedRun(Launch launch, String device, boolean ownGpu) {
        this.launch = launch;
        this.device = device;
        this.ownGpu = ownGpu;
    }

    /**
     * The launch of this process when it was started by mpirun (or {@code --distributed} asks for
     * one), checked before anything is read or opened; null for a single process. MPI itself
     * starts later, with {@link #start}, once every option and the data have been checked.
     *
     * @throws IllegalArgumentException bad input, one line naming the option (exit 2)
     */
    static DistributedRun check(boolean asked, String device) {
        Launch launch;
        try {
            launch = Launch.current();
        } catch (DistributedException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        if (launch == null) {
            if (asked) {
                throw new IllegalArgumentException("--distributed: this process was not started by mpirun (no OMPI_COMM_WORLD_SIZE"
                        + " in its environment): launch it with mpirun -np N ./salvo train ... (Open MPI, Debian package openmpi-bin)");
            }
            return null;
        }
        quietOnOtherRanks(launch);
        boolean[] own = new boolean[1];
        String mine = perRankDevice(device, launch, own); // a list naming one GPU twice fails here, before any device is opened
        if (!Mpi.supported()) {
            throw new IllegalArgumentException(Mpi.unsupportedReason());
        }
        if (System.getProperty("salvo.cpu.threads") == null) { // ranks of one machine share its cores
            int cores = Runtime.getRuntime().availableProcessors();
            System.setProperty("salvo.cpu.threads", Integer.toString(Math.max(1, cores / launch.localSize())));
        }
        return new DistributedRun(launch, mine, own[0]);
    }

    /** The global batch must give every rank rows. */
    void checkBatch(int globalBatch) {
        if (globalBatch < launch.size()) {
            throw new IllegalArgumentException("--batch-size " + globalBatch + " is the global batch and must be at least the world size "
                    + launch.size() + " (every rank needs rows)");
        }
    }

    /** This rank's device selector. */
    String device() {
        return device;
    }

    /**
     * Initializes MPI (after every option and the data were checked: a rank that fails before
     * this ends without having joined, and mpirun ends the job).
     *
     * @throws IllegalArgumentException libmpi is missing (naming the package) or MPI fails to start
     */
    void start() {
        try {
            comm = Mpi.open(launch);
        } catch (DistributedException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        current = this;
    }

    /** Ranks other than 0 keep quiet about bad input every rank sees alike (rank 0 says it once). */
    private static void quietOnOtherRanks(Launch launch) {
        if (launch.rank() != 0) {
            Main.quietUsageErrors();
        }
    }

    /**
     * This rank's device selector from {@code --device}: a comma list gives one per local rank
     * (naming the same GPU twice is an error); {@code cuda} or {@code opencl} without an index
     * takes index {@code LOCAL_RANK} (modulo the devices there are); anything else is used as is.
     */
    static String perRankDevice(String device, Launch launch, boolean[] ownGpu) {
        String spec = device == null || device.isBlank() ? Devices.defaultSelector() : device.trim();
        if (spec.contains(",")) {
            String[] parts = spec.split(",");
            Map<String, Integer> seen = new LinkedHashMap<>();
            for (int i = 0; i < parts.length; i++) {
                String p = parts[i].trim().toLowerCase(Locale.ROOT);
                Devices.Selector sel = Devices.Selector.parse(p);
                boolean shared = sel.provider().equals("cpu") || sel.provider().equals("reference");
                String key = sel.provider() + ":" + Math.max(0, sel.index());
                if (!shared && seen.containsKey(key)) {
                    throw new IllegalArgumentException("--device " + spec + " names " + key + " for local ranks " + seen.get(key) + " and " + i
                            + ": each rank needs its own GPU (NCCL refuses two ranks on one device); give one device per rank,"
                            + " e.g. cuda:0,cuda:1");
                }
                seen.put(key, i);
            }
            if (parts.length < launch.localSize()) {
                throw new IllegalArgumentException("--device " + spec + " lists " + parts.length + " devices for " + launch.localSize()
                        + " ranks on this machine: give one per local rank");
            }
            ownGpu[0] = true;
            return parts[launch.localRank()].trim();
        }
        Devices.Selector sel = Devices.Selector.parse(spec);
        if ((sel.provider().equals("cuda") || sel.provider().equals("opencl")) && sel.index() < 0) {
            int n = Devices.deviceCount(sel.provider());
            ownGpu[0] = n >= launch.localSize();
            return sel.provider() + ":" + (n > 0 ? launch.localRank() % n : launch.localRank());
        }
        ownGpu[0] = launch.localSize() == 1;
        return spec;
    }

    int rank() {
        return launch.rank();
    }

    int size() {
        return launch.size();
    }

    /** True on rank 0, the only rank that prints progress and writes the run folder, model and checkpoints. */
    boolean writer() {
        return launch.rank() == 0;
    }

    /** {@code real} on rank 0; a writer that drops everything on the other ranks. */
    PrintWriter out(PrintWriter real) {
        return writer() ? real : new PrintWriter(Writer.nullWriter());
    }

    /**
     * The communicator for this rank's device: NCCL when {@code allReduce} allows it, the device is
     * CUDA, and on every rank {@code libnccl.so.2} is found and the rank has its own GPU (the ranks
     * count who can in one all-reduce, so all take the same path); MPI on (pinned) host memory otherwise.
     */
    Communicator communicatorFor(Device device, String allReduce) {
        boolean cuda = device.info().id().startsWith("cuda");
        if (allReduce.equals("host") || !cuda) { // the options and the provider agree on every rank
            if (allReduce.equals("nccl")) {
                throw new IllegalArgumentException("--all-reduce nccl needs a CUDA device, this rank has " + device.info().id());
            }
            return comm;
        }
        Path lib = Nccl.find();
        String cannot = lib == null ? Nccl.LIBRARY + " not found (searched NCCL_LIBRARY, LD_LIBRARY_PATH, the CUDA and system"
                + " library folders and PyTorch's nvidia/nccl/lib)" : !ownGpu ? "ranks of this machine share a GPU, which NCCL refuses" : null;
        double[] able = {cannot == null ? 1 : 0};
        comm.allReduceSum(able);
        if (!useNccl(allReduce, cannot, (int) able[0], comm.size())) {
            return comm;
        }
        comm = Nccl.open(comm, device, lib);
        return comm;
    }

    /**
     * Whether the ranks all-reduce with NCCL: only when all {@code size} can ({@code able} of them
     * said so; {@code cannot}: this rank's reason, null when it can). {@code --all-reduce nccl}
     * that some rank cannot honour is an error on every rank; {@code auto} falls back to host memory.
     */
    static boolean useNccl(String allReduce, String cannot, int able, int size) {
        if (able == size) {
            return true;
        }
        if (allReduce.equals("nccl")) {
            throw new IllegalArgumentException("--all-reduce nccl: " + (cannot != null ? cannot
                    : (size - able) + " of the " + size + " ranks cannot use NCCL"));
        }
        return false;
    }

    /**
     * Checks that every rank trains the same thing: rank 0's facts go to every rank, each rank that
     * differs says in one line in what, and the job ends (MPI_Abort, exit 2) before training.
     */
    void agree(Map<String, String> facts, PrintWriter err) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : facts.entrySet()) {
            sb.append(e.getKey()).append('\t').append(e.getValue()).append('\n');
        }
        byte[] mine = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] zero = comm.broadcast(mine, 0);
        Map<String, String> theirs = new LinkedHashMap<>();
        for (String line : new String(zero, StandardCharsets.UTF_8).split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                theirs.put(line.substring(0, tab), line.substring(tab + 1));
            }
        }
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : facts.entrySet()) {
            String z = theirs.get(e.getKey());
            if (!e.getValue().equals(z)) {
                differ.add(e.getKey() + " (" + abbreviate(e.getValue()) + " here, " + abbreviate(z) + " on rank 0)");
            }
        }
        if (!differ.isEmpty()) {
            err.println("salvo train: rank " + rank() + " differs from rank 0 in " + String.join("; ", differ)
                    + ": every rank must run the same Salvo, network, data and options; ending the job");
            err.flush();
        }
        double[] count = {differ.isEmpty() ? 0 : 1};
        comm.allReduceSum(count);
        if (count[0] > 0) {
            comm.abort(Main.EXIT_USAGE);
        }
    }

    private static String abbreviate(String v) {
        return v == null ? "nothing" : v.length() > 40 ? v.substring(0, 40) + "..." : v;
    }

    /** The one line every rank prints: its rank, machine, device, how gradients are summed, the parameters' SHA-256. */
    String rankLine(Device device, DataParallel dp, String sha256) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "?";
        }
        return String.format(Locale.ROOT, "rank %d/%d (local %d/%d on %s, pid %d): device %s (%s); %s; parameters sha256 %s",
                rank(), size(), launch.localRank(), launch.localSize(), host, ProcessHandle.current().pid(), device.info().id(),
                device.info().name(), dp.path(), sha256.substring(0, 16));
    }

    /** Every rank's last line: the step reached and its parameters' SHA-256 (the same on every rank). */
    void finalLine(PrintWriter console, long step, String sha256) {
        console.printf(Locale.ROOT, "rank %d/%d: done at step %d, parameters sha256 %s%n", rank(), size(), step, sha256.substring(0, 16));
        console.flush();
    }

    /**
     * A rank failed with exit code {@code code} (its message already printed): ends every rank of
     * the job (MPI_Abort) so none waits forever in a collective. Does not return while a job is active.
     */
    static void fail(int code) {
        DistributedRun r = current;
        if (r != null && !r.closed && r.size() > 1) {
            r.comm.abort(code);
        }
    }

    /** True while this process is a rank other than 0 of an active job. */
    static boolean otherRank() {
        DistributedRun r = current;
        return r != null && !r.closed && r.rank() != 0;
    }

    /** How long a rank other than 0 with bad input waits for mpirun to end it (rank 0 saw the same). */
    static final long GRACE_MILLIS = 5_000;

    /**
     * Waits {@link #GRACE_MILLIS} for mpirun to end this process, as it does once rank 0 has failed
     * on the same bad input; returns true when it did not (rank 0 went on: the input differs here).
     */
    static boolean outlivesRankZero() {
        try {
            Thread.sleep(GRACE_MILLIS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** This process's rank from Open MPI's environment (0 when not under mpirun). */
    static int launchRank() {
        Launch l = Launch.of(System.getenv());
        return l == null ? 0 : l.rank();
    }

    @Override
    public void close() {
        if (!closed && comm != null) {
            comm.barrier();
            closed = true;
            current = null;
            comm.close();
        }
    }
}
