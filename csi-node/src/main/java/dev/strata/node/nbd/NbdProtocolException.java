package dev.strata.node.nbd;

import java.io.IOException;

/**
 * The peer broke the protocol in a way that cannot be answered with an error reply (bad magic,
 * unknown client flags, a truncated message, an absurd length): the connection is dropped.
 * This is the only exception the parsers throw on bad input.
 */
public class NbdProtocolException extends IOException {
    public NbdProtocolException(String message) {
        super(message);
    }
}
