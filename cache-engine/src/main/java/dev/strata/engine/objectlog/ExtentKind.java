package dev.strata.engine.objectlog;

/** What an object extent (and a journal record) says about its LBA range. */
public enum ExtentKind {
    /** New data, stored in the object's data area. */
    WRITE(0),
    /** Discarded: reads as zeros, no data stored. */
    TRIM(1),
    /** Written as zeros: reads as zeros, no data stored. */
    ZERO(2);

    public final int code;

    ExtentKind(int code) {
        this.code = code;
    }

    public static ExtentKind ofCode(int code) {
        return switch (code) {
            case 0 -> WRITE;
            case 1 -> TRIM;
            case 2 -> ZERO;
            default -> null;
        };
    }
}
