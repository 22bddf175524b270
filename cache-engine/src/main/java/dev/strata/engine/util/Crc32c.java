package dev.strata.engine.util;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC32C helpers: every on-disk and in-bucket format of Strata is checksummed with CRC32C. */
public final class Crc32c {
    private Crc32c() {}

    /** The page the read cache checks its blocks by (docs/read-cache.md): {@link #ofPages} and {@link #combine} are fastest for it. */
    public static final int PAGE = 4096;

    public static int of(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** CRC of {@code buf}'s bytes [from, to) without moving its position. */
    public static int of(ByteBuffer buf, int from, int to) {
        CRC32C c = new CRC32C();
        c.update(buf.duplicate().limit(to).position(from));
        return (int) c.getValue();
    }

    /**
     * The CRC of each {@value #PAGE}-byte page of {@code buf}'s bytes [from, to) (the last one may be
     * shorter) into {@code out} from {@code outAt}, and the CRC of all of [from, to), combined from
     * them: one pass over the bytes for both. {@code buf}'s position is not moved.
     */
    public static int ofPages(ByteBuffer buf, int from, int to, int[] out, int outAt) {
        CRC32C c = new CRC32C();
        ByteBuffer view = buf.duplicate();
        int whole = 0;
        for (int at = from, p = outAt; at < to; at += PAGE, p++) {
            int end = Math.min(to, at + PAGE);
            c.reset();
            c.update(view.limit(end).position(at));
            int page = (int) c.getValue();
            out[p] = page;
            whole = at == from ? page : combine(whole, page, end - at);
        }
        return whole;
    }

    /**
     * The CRC32C of a {@code length}-byte piece from the CRCs of its {@value #PAGE}-byte pages in
     * {@code pages} from {@code at} (as {@link #ofPages} leaves them): no pass over the bytes.
     */
    public static int combinePages(int[] pages, int at, int length) {
        int whole = pages[at];
        for (int p = 1; p * PAGE < length; p++) {
            whole = combine(whole, pages[at + p], Math.min(PAGE, length - p * PAGE));
        }
        return whole;
    }

    // ---------------------------------------------------------------- combining (after zlib's crc32_combine)

    /** The reflected CRC32C polynomial. */
    private static final int POLY = 0x82F63B78;
    /** X2N[k] = x^(2^k) mod P. */
    private static final int[] X2N = new int[32];
    /** Multiplication by x^(8 * PAGE) mod P, a byte of the operand at a time: SHIFT_PAGE[i][v] for byte i of value v. */
    private static final int[][] SHIFT_PAGE = new int[4][256];

    static {
        int p = 1 << 30; // x^1
        X2N[0] = p;
        for (int k = 1; k < 32; k++) {
            X2N[k] = p = multiplyModP(p, p);
        }
        int op = xPowerModP(PAGE, 3);
        for (int i = 0; i < 4; i++) {
            for (int v = 0; v < 256; v++) {
                SHIFT_PAGE[i][v] = multiplyModP(op, v << (8 * i));
            }
        }
    }

    /**
     * The CRC32C of A followed by B, from the CRC32C of A, that of B and B's length in bytes:
     * no pass over the bytes.
     */
    public static int combine(int crcA, int crcB, long lengthB) {
        if (lengthB == PAGE) {
            return SHIFT_PAGE[0][crcA & 0xff] ^ SHIFT_PAGE[1][(crcA >>> 8) & 0xff] ^ SHIFT_PAGE[2][(crcA >>> 16) & 0xff]
                    ^ SHIFT_PAGE[3][crcA >>> 24] ^ crcB;
        }
        return multiplyModP(xPowerModP(lengthB, 3), crcA) ^ crcB;
    }

    /** a(x) b(x) mod P, bit-reflected (x^0 is the top bit). */
    private static int multiplyModP(int a, int b) {
        int m = 1 << 31;
        int p = 0;
        while (true) {
            if ((a & m) != 0) {
                p ^= b;
                if ((a & (m - 1)) == 0) {
                    return p;
                }
            }
            m >>>= 1;
            b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
        }
    }

    /** x^(n 2^k) mod P. */
    private static int xPowerModP(long n, int k) {
        int p = 1 << 31; // x^0
        while (n != 0) {
            if ((n & 1) != 0) {
                p = multiplyModP(X2N[k & 31], p);
            }
            n >>>= 1;
            k++;
        }
        return p;
    }
}
