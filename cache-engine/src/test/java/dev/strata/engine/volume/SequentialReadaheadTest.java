package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which volume ranges {@link SequentialReadahead} asks for (unit test against a recording target;
 * what the volume then fetches is SequentialReadsPrefetchAcrossObjectsTest's): a stream
 * prefetches nothing until its third sequential read, a continuing read tops the window up in
 * whole GETs only, a read delivered a little early continues its stream, a late one changes
 * nothing, and random reads that land just past a stream's end once do not prefetch.
 */
class SequentialReadaheadTest {
    private static final int GET = 100;
    private static final int WINDOW = 4 * GET;

    private final List<List<Long>> asked = new ArrayList<>();
    private final SequentialReadahead ra = new SequentialReadahead(WINDOW, GET, (offset, length) -> asked.add(List.of(offset, length)));

    @Test
    void aStreamPrefetchesNothingUntilItsThirdReadThenTheWindowPastItsEnd() {
        ra.onRead(0, 50);
        assertEquals(List.of(), asked, "one read is not a stream");
        ra.onRead(50, 50);
        assertEquals(List.of(), asked, "two reads are not a stream yet");
        ra.onRead(100, 50);
        assertEquals(List.of(List.of(150L, 400L)), asked, "the window past the third read's end");
    }

    @Test
    void theWindowIsToppedUpOnlyAWholeGetAtATime() {
        ra.onRead(0, 50);
        ra.onRead(50, 50);
        ra.onRead(100, 50); // window [150, 550)
        ra.onRead(150, 50); // end 200: 50 bytes of room, less than a GET
        assertEquals(1, asked.size());
        ra.onRead(200, 50); // end 250: a whole GET of room
        assertEquals(List.of(550L, 100L), asked.getLast());
    }

    @Test
    void aReadDeliveredALittleEarlyContinuesItsStreamAndALateOneChangesNothing() {
        ra.onRead(0, 50);
        ra.onRead(50, 50);
        ra.onRead(100, 50); // stream end 150, window to 550
        ra.onRead(200, 50); // its predecessor [150, 200) not seen yet: still this stream, end 250
        assertEquals(List.of(550L, 100L), asked.getLast());
        int before = asked.size();
        ra.onRead(150, 50); // the late one
        assertEquals(before, asked.size());
        ra.onRead(250, 50); // the stream goes on from 300: less than a GET of room, nothing yet
        assertEquals(before, asked.size());
        ra.onRead(300, 50);
        assertEquals(List.of(650L, 100L), asked.getLast());
    }

    @Test
    void aReadElsewhereStartsAnotherStreamWithoutPrefetching() {
        ra.onRead(0, 50);
        ra.onRead(50, 50);
        ra.onRead(100, 50);
        int before = asked.size();
        ra.onRead(1_000_000, 50);
        ra.onRead(1_000_050, 50);
        assertEquals(before, asked.size());
        ra.onRead(1_000_100, 50);
        assertEquals(List.of(1_000_150L, 400L), asked.getLast(), "and that stream runs on its own");
    }

    @Test
    void aRandomReadThatLandsJustPastAStreamsEndOncePrefetchesNothing() {
        for (int i = 0; i < 8; i++) {
            ra.onRead(1_000_000L * i, 50); // eight random reads: eight new streams
        }
        ra.onRead(3_000_050, 50); // lands at one of their ends
        ra.onRead(7_000_070, 50); // a little past another's
        assertEquals(List.of(), asked);
    }
}
