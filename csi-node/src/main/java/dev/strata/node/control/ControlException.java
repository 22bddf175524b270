package dev.strata.node.control;

import java.io.IOException;

/** A control request answered with {@code error CODE MESSAGE}, or one whose connection was lost. */
public final class ControlException extends IOException {
    private final String code;

    public ControlException(String code, String message) {
        super(message);
        this.code = code;
    }

    /** One of the {@code E_} codes of {@link ControlProtocol}. */
    public String code() {
        return code;
    }
}
