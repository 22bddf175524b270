package dev.strata.engine.journal;

/** An entry failed validation. Thrown by {@link EntryHeader} only, caught by the replayer. */
final class CorruptEntryException extends Exception {
    private final StopReason reason;

    CorruptEntryException(StopReason reason, String detail) {
        super(detail, null, false, false); // no stack trace: this is an expected outcome, not a bug
        this.reason = reason;
    }

    StopReason reason() {
        return reason;
    }
}
