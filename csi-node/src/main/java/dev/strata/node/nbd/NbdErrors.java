package dev.strata.node.nbd;

import dev.strata.engine.volume.CorruptDataException;
import dev.strata.engine.volume.LocalStateLostException;
import dev.strata.engine.volume.OutOfRangeException;
import dev.strata.engine.volume.ReadOnlyVolumeException;
import dev.strata.engine.volume.VolumeClosedException;
import dev.strata.engine.volume.VolumeFencedException;

/**
 * NBD error values (the spec's restricted errno set) and the mapping from volume exceptions.
 * The rules we follow: write past the end → ENOSPC, read/trim/block-status past the end or
 * misaligned → EINVAL, write/trim on a read-only export → EPERM, unknown command or flag →
 * EINVAL, closed volume → ESHUTDOWN (the client then disconnects), everything else → EIO.
 * EOVERFLOW and ENOTSUP are reserved by the spec for DF and FAST_ZERO, which never fail here.
 */
public final class NbdErrors {
    private NbdErrors() {}

    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    /** The error value for an exception thrown by the volume while running {@code command}. */
    public static int fromException(Throwable t, int command) {
        return switch (t) {
            case OutOfRangeException e -> isWrite(command) ? ENOSPC : EINVAL;
            case ReadOnlyVolumeException e -> EPERM;
            case VolumeClosedException e -> ESHUTDOWN;
            case VolumeFencedException e -> EIO;
            case LocalStateLostException e -> EIO;
            case CorruptDataException e -> EIO;
            default -> EIO;
        };
    }

    static boolean isWrite(int command) {
        return command == NbdProtocol.CMD_WRITE || command == NbdProtocol.CMD_WRITE_ZEROES;
    }

    public static String name(int error) {
        return switch (error) {
            case 0 -> "OK";
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case ENOMEM -> "ENOMEM";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            default -> "errno " + error;
        };
    }
}
