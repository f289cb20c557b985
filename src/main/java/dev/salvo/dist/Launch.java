package dev.salvo.dist;

import java.util.Map;

/**
 * How this process was launched, from the environment Open MPI's {@code mpirun} gives every rank
 * ({@code OMPI_COMM_WORLD_SIZE}, {@code _RANK}, {@code _LOCAL_RANK}, {@code _LOCAL_SIZE}).
 *
 * @param size      ranks in the job
 * @param rank      this rank
 * @param localRank rank on this machine
 * @param localSize ranks on this machine
 */
public record Launch(int size, int rank, int localRank, int localSize) {

    /** The launch described by {@code env}, or null when it carries no Open MPI rank (not started by mpirun). */
    public static Launch of(Map<String, String> env) {
        String size = env.get("OMPI_COMM_WORLD_SIZE");
        if (size == null) {
            return null;
        }
        int n = number(env, "OMPI_COMM_WORLD_SIZE", 1);
        int r = number(env, "OMPI_COMM_WORLD_RANK", 0);
        int lr = env.containsKey("OMPI_COMM_WORLD_LOCAL_RANK") ? number(env, "OMPI_COMM_WORLD_LOCAL_RANK", 0) : r;
        int ls = env.containsKey("OMPI_COMM_WORLD_LOCAL_SIZE") ? number(env, "OMPI_COMM_WORLD_LOCAL_SIZE", 1) : n;
        if (r >= n || lr >= ls) {
            throw new DistributedException("inconsistent Open MPI environment: rank " + r + " of " + n + ", local rank " + lr + " of " + ls);
        }
        return new Launch(n, r, lr, ls);
    }

    /** This process's launch, or null when it was not started by mpirun. */
    public static Launch current() {
        return of(System.getenv());
    }

    private static int number(Map<String, String> env, String key, int min) {
        String v = env.get(key);
        try {
            int x = Integer.parseInt(v == null ? "" : v.trim());
            if (x >= min) {
                return x;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new DistributedException("environment variable " + key + " must be an integer >= " + min + ", got '" + v + "'");
    }
}
