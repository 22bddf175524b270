package dev.strata.engine.objectlog;

/** What an object extent (and a journal record) says about its LBA range. */
public enum ExtentKind {
    /** New data, stored in the object's data area. */
    WRITE(0),
    /** Discarded: reads as zeros, no data stored. */
    TRIM(1),
    /** Written as zeros: reads as zeros, no data stored. */
    ZERO(2),
    /**
     * Garbage collection moved live data here from an older object (data stored, plus the source
     * location in the header): applies only to the sectors the map still points at the source,
     * so it can never shadow a newer write, whatever the replay order. docs/gc.md.
     */
    MOVE(3);

    public final int code;

    /** True for the kinds whose data is stored in the object (WRITE, MOVE). */
    public boolean hasData() {
        return this == WRITE || this == MOVE;
    }

    ExtentKind(int code) {
        this.code = code;
    }

    public static ExtentKind ofCode(int code) {
        return switch (code) {
            case 0 -> WRITE;
            case 1 -> TRIM;
            case 2 -> ZERO;
            case 3 -> MOVE;
            default -> null;
        };
    }
}
