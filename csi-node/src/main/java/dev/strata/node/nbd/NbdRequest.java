package dev.strata.node.nbd;

/**
 * One transmission-phase request header. {@code length} is the unsigned 32-bit length widened to
 * a long; {@code offset} is unsigned 64-bit (a negative long means ≥ 2^63, always out of range).
 */
public record NbdRequest(int flags, int type, long handle, long offset, long length) {

    @Override
    public String toString() {
        return NbdProtocol.commandName(type) + " flags=0x" + Integer.toHexString(flags)
                + " offset=" + Long.toUnsignedString(offset) + " length=" + length
                + " handle=0x" + Long.toHexString(handle);
    }
}
