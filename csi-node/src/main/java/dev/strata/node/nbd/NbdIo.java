package dev.strata.node.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** Blocking whole-buffer reads and writes on channels. */
final class NbdIo {
    private NbdIo() {}

    /**
     * Fills {@code buf}. Returns false on a clean end of stream before the first byte; throws
     * {@link NbdProtocolException} if the stream ends part-way (a truncated message).
     */
    static boolean readFully(ReadableByteChannel in, ByteBuffer buf) throws IOException {
        int wanted = buf.remaining();
        while (buf.hasRemaining()) {
            int n = in.read(buf);
            if (n < 0) {
                int got = wanted - buf.remaining();
                if (got == 0) {
                    return false;
                }
                throw new NbdProtocolException("stream ended after " + got + " of " + wanted + " bytes");
            }
        }
        return true;
    }

    /** Like {@link #readFully} but a clean end of stream is also an error. */
    static void readExactly(ReadableByteChannel in, ByteBuffer buf) throws IOException {
        int wanted = buf.remaining();
        if (!readFully(in, buf) && wanted > 0) {
            throw new NbdProtocolException("stream ended, expected " + wanted + " bytes");
        }
    }

    /** Reads and discards {@code length} bytes through {@code scratch}. */
    static void skip(ReadableByteChannel in, long length, ByteBuffer scratch) throws IOException {
        long left = length;
        while (left > 0) {
            scratch.clear();
            scratch.limit((int) Math.min(scratch.capacity(), left));
            readExactly(in, scratch);
            left -= scratch.position();
        }
    }

    static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    static void writeFully(WritableByteChannel out, ByteBuffer a, ByteBuffer b) throws IOException {
        if (out instanceof java.nio.channels.GatheringByteChannel g) {
            ByteBuffer[] both = {a, b};
            while (a.hasRemaining() || b.hasRemaining()) {
                g.write(both);
            }
        } else {
            writeFully(out, a);
            writeFully(out, b);
        }
    }
}
