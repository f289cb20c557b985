package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;

/**
 * The host staging contract ({@link Device#allocHostStaging}, {@link Device#download(DeviceBuffer,
 * FloatBuffer, int)}, {@link Device#upload(FloatBuffer, int, DeviceBuffer)}) on any device: offsets
 * into the host buffer, slices of the device buffer, NaN, infinities, -0 and subnormals kept (bit
 * for bit on float32 devices), the host buffer's position and limit untouched, elements outside the
 * copied ranges untouched, heap and big-endian buffers too, bounds and read-only buffers refused,
 * transfer counters. Used by the device contract (cpu, OpenCL, CUDA) and the reference device's test.
 */
public final class HostStagingChecks {

    private static final float SENTINEL = 7777f;

    private HostStagingChecks() {
    }

    /** The values every round trip carries. */
    static float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.25f * i - 3;
        }
        float[] specials = {Float.NaN, Float.intBitsToFloat(0x7fc01234), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            -0f, Float.MIN_VALUE, Float.MAX_VALUE, 1e-30f};
        System.arraycopy(specials, 0, v, 0, Math.min(n, specials.length));
        return v;
    }

    private static void assertSame(Device d, float want, float got, String what) {
        if (Float.isNaN(want)) {
            assertTrue(Float.isNaN(got), what + ": NaN became " + got);
        } else if (d.precision().equals("float32")) {
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what + ": " + want + " became " + got);
        } else {
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), what + ": " + want + " became " + got);
        }
    }

    /** Runs every check on {@code d}. */
    public static void check(Device d) {
        FloatBuffer staging = d.allocHostStaging(64);
        assertTrue(staging.isDirect(), "staging buffers are direct");
        assertEquals(ByteOrder.nativeOrder(), staging.order(), "staging buffers are in native order");
        assertEquals(64, staging.capacity());
        assertEquals(0, staging.position());
        assertEquals(64, staging.limit());
        assertEquals(0, d.allocHostStaging(0).capacity());
        roundTrip(d, staging, "staging buffer");
        roundTrip(d, ByteBuffer.allocateDirect(4 * 64).order(ByteOrder.nativeOrder()).asFloatBuffer(), "direct buffer");
        roundTrip(d, ByteBuffer.allocateDirect(4 * 64).order(ByteOrder.BIG_ENDIAN).asFloatBuffer(), "big-endian direct buffer");
        roundTrip(d, FloatBuffer.allocate(64), "heap buffer");
        // a view that starts inside a larger buffer: offsets count from the view's start
        ByteBuffer bytes = ByteBuffer.allocateDirect(4 * 80).order(ByteOrder.nativeOrder());
        roundTrip(d, bytes.position(4 * 16).slice().order(ByteOrder.nativeOrder()).asFloatBuffer(), "sliced direct buffer");
        refusals(d, staging);
    }

    private static void roundTrip(Device d, FloatBuffer host, String what) {
        int n = 13;
        float[] v = values(n);
        for (int i = 0; i < host.capacity(); i++) {
            host.put(i, SENTINEL);
        }
        for (int i = 0; i < n; i++) {
            host.put(7 + i, v[i]);
        }
        host.position(3).limit(50);
        try (DeviceBuffer root = d.allocFloat(n + 11); DeviceBuffer copy = d.allocFloat(n)) {
            float[] fill = new float[n + 11];
            java.util.Arrays.fill(fill, SENTINEL);
            d.upload(fill, root);
            DeviceBuffer view = root.slice(5, n);
            Counters before = d.counters();
            d.upload(host, 7, view);
            assertEquals(4L * n, d.counters().bytesToDevice() - before.bytesToDevice(), what + ": bytes to the device");
            assertEquals(3, host.position(), what + ": upload kept the position");
            assertEquals(50, host.limit(), what + ": upload kept the limit");
            float[] got = new float[n + 11];
            d.download(root, got);
            for (int i = 0; i < got.length; i++) {
                boolean inside = i >= 5 && i < 5 + n;
                assertSame(d, inside ? v[i - 5] : SENTINEL, got[i], what + ": device element " + i);
            }
            // back from a slice into another offset of the same host buffer
            before = d.counters();
            d.download(view, host, 30);
            assertEquals(4L * n, d.counters().bytesToHost() - before.bytesToHost(), what + ": bytes to the host");
            assertEquals(3, host.position(), what + ": download kept the position");
            assertEquals(50, host.limit(), what + ": download kept the limit");
            FloatBuffer all = host.duplicate().clear(); // every element, past the limit too
            for (int i = 0; i < all.capacity(); i++) {
                float want = i >= 30 && i < 30 + n ? v[i - 30] : i >= 7 && i < 7 + n ? v[i - 7] : SENTINEL;
                assertSame(d, want, all.get(i), what + ": host element " + i);
            }
            // a whole buffer, offset 0, and a zero-length copy
            d.upload(host, 30, copy);
            float[] back = new float[n];
            d.download(copy, back);
            for (int i = 0; i < n; i++) {
                assertSame(d, v[i], back[i], what + ": whole-buffer element " + i);
            }
            try (DeviceBuffer empty = d.allocFloat(0)) {
                d.upload(host, 50, empty);
                d.download(empty, host, 50);
            }
        } finally {
            host.clear();
        }
    }

    private static void refusals(Device d, FloatBuffer staging) {
        staging.clear();
        try (DeviceBuffer b = d.allocFloat(10)) {
            d.upload(new float[10], b);
            staging.limit(20);
            assertThrows(IndexOutOfBoundsException.class, () -> d.download(b, staging, 11), "past the limit");
            assertThrows(IndexOutOfBoundsException.class, () -> d.upload(staging, 11, b), "past the limit");
            assertThrows(IndexOutOfBoundsException.class, () -> d.download(b, staging, -1), "negative offset");
            staging.clear();
            FloatBuffer readOnly = staging.asReadOnlyBuffer();
            assertThrows(ReadOnlyBufferException.class, () -> d.download(b, readOnly, 0), "read-only buffer");
            d.upload(readOnly, 0, b); // reading from a read-only buffer is fine
            float[] got = new float[10];
            d.download(b, got);
            float[] want = new float[10];
            for (int i = 0; i < 10; i++) {
                want[i] = staging.get(i);
            }
            assertArrayEquals(want, got, "uploaded from a read-only view");
        }
    }
}
