package dev.strata.node.nbd;

/**
 * An option that is answered with an error reply ({@code NBD_REP_ERR_*}) while the handshake goes
 * on: the payload was read completely, so the stream is still in sync.
 */
public final class NbdOptionException extends NbdProtocolException {
    private final int replyType;

    public NbdOptionException(int replyType, String message) {
        super(message);
        this.replyType = replyType;
    }

    /** The {@code NBD_REP_ERR_*} value to send. */
    public int replyType() {
        return replyType;
    }
}
