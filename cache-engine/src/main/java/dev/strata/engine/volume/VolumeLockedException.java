package dev.strata.engine.volume;

/** Opening for write was refused: another writer holds the volume; the message names it. */
public class VolumeLockedException extends VolumeException {
    private final String holder;

    public VolumeLockedException(String message, String holder) {
        super(message);
        this.holder = holder;
    }

    public String holder() {
        return holder;
    }
}
