package dev.salvo.dist;

/** A collective failed (a peer rank was lost, the library reported an error) or distributed training cannot start. */
public class DistributedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
