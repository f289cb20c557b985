package dev.salvo.device;

/** Typed device errors. Every subclass carries what a user needs to act on it. */
public abstract sealed class DeviceException extends RuntimeException {

    private DeviceException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The provider or device cannot be used here; {@link #reason()} says why. */
    public static final class Unavailable extends DeviceException {
        private final String reason;

        public Unavailable(String what, String reason) {
            this(what, reason, null);
        }

        public Unavailable(String what, String reason, Throwable cause) {
            super(what + " unavailable: " + reason, cause);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /** A kernel failed to compile: names the kernel file, the device and carries the full log. */
    public static final class KernelCompile extends DeviceException {
        private final String file;
        private final String device;
        private final String log;

        public KernelCompile(String file, String device, String log) {
            super("kernel " + file + " failed to compile for " + device + ":\n" + log, null);
            this.file = file;
            this.device = device;
            this.log = log;
        }

        public String file() {
            return file;
        }

        public String device() {
            return device;
        }

        public String log() {
            return log;
        }
    }

    /** An allocation did not fit: the requested and the free bytes at the time. */
    public static final class OutOfMemory extends DeviceException {
        private final long requestedBytes;
        private final long freeBytes;

        public OutOfMemory(String device, long requestedBytes, long freeBytes) {
            super(device + ": out of memory allocating " + requestedBytes + " bytes (" + freeBytes + " bytes free)", null);
            this.requestedBytes = requestedBytes;
            this.freeBytes = freeBytes;
        }

        public long requestedBytes() {
            return requestedBytes;
        }

        public long freeBytes() {
            return freeBytes;
        }
    }

    /** A native call failed: the call's name and the status name. */
    public static final class CallFailed extends DeviceException {
        private final String call;
        private final String status;

        public CallFailed(String call, String status) {
            super(call + " failed: " + status, null);
            this.call = call;
            this.status = status;
        }

        public String call() {
            return call;
        }

        public String status() {
            return status;
        }
    }
}
