package dev.strata.engine.volume;

/**
 * The writer's local directory (its lock file or journal) was deleted or replaced while it ran: it
 * takes no more writes, since their journal records could no longer be found after a restart
 * (docs/engine.md, "The local directory vanishes"). NBD: EIO.
 */
public class LocalStateLostException extends VolumeException {
    public LocalStateLostException(String message) {
        super(message);
    }
}
