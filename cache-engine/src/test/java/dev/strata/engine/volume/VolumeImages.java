package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

/** A byte-array reference for small volumes: random writes, trims and zeroes applied to both, then compared. */
final class VolumeImages {
    private VolumeImages() {
    }

    /** One random 4 KiB-aligned operation on the volume and the image: mostly writes, some trims and zeroes. */
    static void randomOp(Volume v, byte[] image, Random r) throws IOException {
        int blocks = image.length / 4096;
        int len = 4096 * (1 + r.nextInt(8));
        long off = (long) r.nextInt(blocks - len / 4096 + 1) * 4096;
        int kind = r.nextInt(10);
        if (kind < 8) {
            byte[] d = new byte[len];
            r.nextBytes(d);
            v.write(off, ByteBuffer.wrap(d), false);
            System.arraycopy(d, 0, image, (int) off, len);
        } else {
            if (kind == 8) {
                v.trim(off, len);
            } else {
                v.writeZeroes(off, len, false);
            }
            java.util.Arrays.fill(image, (int) off, (int) off + len, (byte) 0);
        }
    }

    static void write(Volume v, byte[] image, long off, byte[] data) throws IOException {
        v.write(off, ByteBuffer.wrap(data), false);
        System.arraycopy(data, 0, image, (int) off, data.length);
    }

    static byte[] random(Random r, int len) {
        byte[] d = new byte[len];
        r.nextBytes(d);
        return d;
    }

    /** Reads the whole volume in 1 MiB pieces and names the first differing byte. */
    static void assertMatches(Volume v, byte[] image, String what) throws IOException {
        int piece = 1 << 20;
        for (int off = 0; off < image.length; off += piece) {
            int n = Math.min(piece, image.length - off);
            ByteBuffer got = ByteBuffer.allocate(n);
            v.read(off, got);
            for (int i = 0; i < n; i++) {
                if (got.get(i) != image[off + i]) {
                    fail(what + ": " + v.name() + " differs at byte " + (off + i) + " (sector " + (off + i) / 512 + "): got "
                            + got.get(i) + ", expected " + image[off + i]);
                }
            }
        }
    }
}
