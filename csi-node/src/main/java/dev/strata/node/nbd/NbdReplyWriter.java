package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serialises replies onto one connection's output. Many request threads call it at once; each
 * message (header plus payload) is written whole while holding {@link #lock}, so replies to
 * different requests interleave only at message boundaries. The {@link #scratch} header buffer
 * is owned by whoever holds the lock, which is why replies make no garbage for headers.
 */
final class NbdReplyWriter {
    private final WritableByteChannel out;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. Room for a header plus an error message or block-status descriptors. */
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(
            STRUCTURED_REPLY_HEADER_LENGTH + 6 + MAX_STRING_LENGTH + 8 + 8 * MAX_BLOCK_STATUS_EXTENTS);

    NbdReplyWriter(WritableByteChannel out) {
        this.out = out;
    }

    /** Simple reply, optionally followed by read data ({@code data} may be null). */
    void simple(long handle, int error, ByteBuffer data) throws IOException {
        lock.lock();
        try {
            scratch.clear();
            scratch.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(handle).flip();
            write(data);
        } finally {
            lock.unlock();
        }
    }

    /** NBD_REPLY_TYPE_OFFSET_DATA: {@code data.remaining()} bytes of the export at {@code offset}. */
    void offsetData(long handle, long offset, ByteBuffer data, boolean done) throws IOException {
        lock.lock();
        try {
            structuredHeader(handle, REPLY_TYPE_OFFSET_DATA, done, 8 + data.remaining());
            scratch.putLong(offset).flip();
            write(data);
        } finally {
            lock.unlock();
        }
    }

    /** NBD_REPLY_TYPE_OFFSET_HOLE: {@code length} bytes at {@code offset} read as zeros. */
    void offsetHole(long handle, long offset, int length, boolean done) throws IOException {
        lock.lock();
        try {
            structuredHeader(handle, REPLY_TYPE_OFFSET_HOLE, done, 12);
            scratch.putLong(offset).putInt(length).flip();
            write(null);
        } finally {
            lock.unlock();
        }
    }

    /** NBD_REPLY_TYPE_NONE with DONE. */
    void structuredDone(long handle) throws IOException {
        lock.lock();
        try {
            structuredHeader(handle, REPLY_TYPE_NONE, true, 0);
            scratch.flip();
            write(null);
        } finally {
            lock.unlock();
        }
    }

    /** NBD_REPLY_TYPE_ERROR with DONE and a human-readable message. */
    void structuredError(long handle, int error, String message) throws IOException {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, MAX_STRING_LENGTH);
        lock.lock();
        try {
            structuredHeader(handle, REPLY_TYPE_ERROR, true, 6 + n);
            scratch.putInt(error).putShort((short) n).put(text, 0, n).flip();
            write(null);
        } finally {
            lock.unlock();
        }
    }

    /**
     * NBD_REPLY_TYPE_BLOCK_STATUS with DONE: {@code count} descriptors, lengths and flags taken
     * pairwise from {@code extents} (length, flags, length, flags, ...).
     */
    void blockStatus(long handle, int contextId, int[] extents, int count) throws IOException {
        if (count < 1 || count > MAX_BLOCK_STATUS_EXTENTS) {
            throw new IllegalArgumentException("descriptor count " + count);
        }
        lock.lock();
        try {
            structuredHeader(handle, REPLY_TYPE_BLOCK_STATUS, true, 4 + 8 * count);
            scratch.putInt(contextId);
            for (int i = 0; i < count; i++) {
                scratch.putInt(extents[2 * i]).putInt(extents[2 * i + 1]);
            }
            scratch.flip();
            write(null);
        } finally {
            lock.unlock();
        }
    }

    private void structuredHeader(long handle, int type, boolean done, int length) {
        scratch.clear();
        scratch.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) (done ? REPLY_FLAG_DONE : 0))
                .putShort((short) type).putLong(handle).putInt(length);
    }

    private void write(ByteBuffer data) throws IOException {
        if (data == null) {
            NbdIo.writeFully(out, scratch);
        } else {
            NbdIo.writeFully(out, scratch, data);
        }
    }
}
