package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdErrors.EINVAL;
import static dev.strata.node.nbd.NbdErrors.ENOSPC;
import static dev.strata.node.nbd.NbdErrors.EPERM;
import static dev.strata.node.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;

/**
 * Parses request headers and decides, before any volume call, whether a request is acceptable.
 * Pure functions of their arguments: no I/O, no shared state, so they are fuzzed directly.
 */
public final class NbdRequestParser {
    private NbdRequestParser() {}

    /** What the handshake agreed that influences which requests are valid. */
    public record Context(long exportSize, int sectorSize, int transmissionFlags,
                          boolean structuredReplies, boolean baseAllocation) {}

    /** Why a request is refused: the error value to send and a message naming the problem. */
    public record Rejection(int error, String message) {}

    /**
     * Reads a 28-byte header from {@code buf} (position advanced by 28).
     *
     * @throws NbdProtocolException if the magic is wrong: the stream cannot be resynchronised
     */
    public static NbdRequest parseHeader(ByteBuffer buf) throws NbdProtocolException {
        if (buf.remaining() < REQUEST_HEADER_LENGTH) {
            throw new NbdProtocolException("request header truncated: " + buf.remaining() + " bytes");
        }
        int magic = buf.getInt();
        if (magic != REQUEST_MAGIC) {
            throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
        }
        int flags = Short.toUnsignedInt(buf.getShort());
        int type = Short.toUnsignedInt(buf.getShort());
        long handle = buf.getLong();
        long offset = buf.getLong();
        long length = Integer.toUnsignedLong(buf.getInt());
        return new NbdRequest(flags, type, handle, offset, length);
    }

    /** Command flags each command may carry (FUA is accepted on every command, per the spec). */
    static int allowedFlags(int type) {
        return switch (type) {
            case CMD_READ, CMD_WRITE, CMD_FLUSH, CMD_TRIM, CMD_CACHE, CMD_DISC -> CMD_FLAG_FUA;
            case CMD_WRITE_ZEROES -> CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO;
            case CMD_BLOCK_STATUS -> CMD_FLAG_FUA | CMD_FLAG_REQ_ONE;
            default -> 0;
        };
    }

    /** Returns null when {@code r} may be executed, otherwise the error reply to send. */
    public static Rejection validate(NbdRequest r, Context c) {
        int type = r.type();
        if (type < CMD_READ || type > CMD_BLOCK_STATUS) {
            return new Rejection(EINVAL, "unknown command " + type);
        }
        int unexpected = r.flags() & ~allowedFlags(type);
        if (unexpected != 0) {
            return new Rejection(EINVAL, "flags 0x" + Integer.toHexString(unexpected) + " not valid for "
                    + commandName(type));
        }
        if ((r.flags() & CMD_FLAG_FUA) != 0 && (c.transmissionFlags() & TX_SEND_FUA) == 0) {
            return new Rejection(EINVAL, "FUA was not negotiated");
        }
        boolean writes = type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES;
        if (writes && (c.transmissionFlags() & TX_READ_ONLY) != 0) {
            return new Rejection(EPERM, commandName(type) + " on a read-only export");
        }
        if (type == CMD_FLUSH || type == CMD_DISC) {
            if (r.offset() != 0 || r.length() != 0) {
                return new Rejection(EINVAL, commandName(type) + " must have offset and length 0");
            }
            return null;
        }
        if (type == CMD_BLOCK_STATUS && !(c.structuredReplies() && c.baseAllocation())) {
            return new Rejection(EINVAL, "BLOCK_STATUS without a negotiated base:allocation context");
        }
        if (r.length() == 0) {
            return new Rejection(EINVAL, commandName(type) + " with length 0");
        }
        boolean limited = type == CMD_READ || type == CMD_WRITE || type == CMD_CACHE;
        if (limited && r.length() > MAX_BLOCK_SIZE) {
            return new Rejection(EINVAL, commandName(type) + " length " + r.length()
                    + " exceeds the maximum block size " + MAX_BLOCK_SIZE);
        }
        long sector = c.sectorSize();
        if (Long.remainderUnsigned(r.offset(), sector) != 0 || r.length() % sector != 0) {
            return new Rejection(EINVAL, commandName(type) + " not aligned to the " + sector + "-byte block size");
        }
        // Unsigned compare: offset may be >= 2^63 on the wire.
        if (Long.compareUnsigned(r.offset(), c.exportSize()) > 0 || r.length() > c.exportSize() - r.offset()) {
            int error = NbdErrors.isWrite(type) ? ENOSPC : EINVAL;
            return new Rejection(error, commandName(type) + " beyond the end of the export (size "
                    + c.exportSize() + ")");
        }
        return null;
    }
}
