package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.sun.jna.Memory;

/**
 * Builds the C structs by hand in native memory, at the offsets librbd.h implies for LP64, and
 * checks the decoders read them back. Guards the offsets against edits; the ITs check them
 * against the real library.
 */
class RbdLayoutsTest {
    private final List<Memory> keep = new ArrayList<>();

    private Memory str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        Memory m = new Memory(b.length + 1);
        m.write(0, b, 0, b.length);
        m.setByte(b.length, (byte) 0);
        keep.add(m);
        return m;
    }

    @Test
    void linkedImageSpecs() {
        Memory a = new Memory(2L * RbdLayouts.LINKED_IMAGE_SPEC_SIZE);
        a.clear();
        long o = RbdLayouts.LINKED_IMAGE_SPEC_SIZE;
        a.setLong(0, 7);
        a.setPointer(8, str("rbd"));
        a.setPointer(16, null);
        a.setPointer(24, str("10ab"));
        a.setPointer(32, str("csi-vol-1"));
        a.setByte(40, (byte) 0);
        a.setLong(o, 8);
        a.setPointer(o + 8, str("other"));
        a.setPointer(o + 16, str("ns1"));
        a.setPointer(o + 24, str("20cd"));
        a.setPointer(o + 32, str("csi-vol-2"));
        a.setByte(o + 40, (byte) 1);
        assertThat(RbdLayouts.linkedImageSpecs(a, 2)).containsExactly(
                new LinkedImage(7, "rbd", "", "10ab", "csi-vol-1", false),
                new LinkedImage(8, "other", "ns1", "20cd", "csi-vol-2", true));
    }

    @Test
    void imageSpecsWatchersSnapsAndTrash() {
        Memory specs = new Memory(RbdLayouts.IMAGE_SPEC_SIZE);
        specs.setPointer(0, str("id1"));
        specs.setPointer(8, str("name1"));
        assertThat(RbdLayouts.imageSpecs(specs, 1)).containsExactly(new ImageRef("id1", "name1"));

        Memory w = new Memory(RbdLayouts.WATCHER_SIZE);
        w.setPointer(0, str("127.0.0.1:0/42"));
        w.setLong(8, 4155);
        w.setLong(16, 94000000000L);
        assertThat(RbdLayouts.watchers(w, 1)).containsExactly(new Watcher("127.0.0.1:0/42", 4155, 94000000000L));

        Memory s = new Memory(RbdLayouts.SNAP_INFO_SIZE);
        s.setLong(0, 4);
        s.setLong(8, 1L << 30);
        s.setPointer(16, str("snap"));
        assertThat(RbdLayouts.snapInfos(s, 1)).containsExactly(new RbdLayouts.RawSnap(4, 1L << 30, "snap"));

        Memory t = new Memory(RbdLayouts.TRASH_INFO_SIZE);
        t.clear();
        t.setPointer(0, str("abc"));
        t.setPointer(8, str("img"));
        t.setInt(16, 4);
        t.setLong(24, 1_700_000_000L);
        t.setLong(32, 1_700_003_600L);
        assertThat(RbdLayouts.trashInfos(t, 1)).containsExactly(new TrashEntry("abc", "img",
                TrashEntry.Source.USER_PARENT, Instant.ofEpochSecond(1_700_000_000L),
                Instant.ofEpochSecond(1_700_003_600L)));

        Memory snap = new Memory(RbdLayouts.SNAP_SPEC_SIZE);
        snap.clear();
        snap.setLong(0, 9);
        snap.setInt(8, 2);
        snap.setPointer(16, str("d1b6...-trash"));
        assertThat(RbdLayouts.snapSpec(snap)).isEqualTo(new ParentRef.Snap(9, SnapshotNamespace.TRASH, "d1b6...-trash"));
    }

    @Test
    void cStringStopsAtNul() {
        byte[] buf = new byte[16];
        byte[] text = "10ab2f".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, buf, 0, text.length);
        assertThat(RbdLayouts.cString(buf)).isEqualTo("10ab2f");
        assertThat(RbdLayouts.cString(new byte[0])).isEmpty();
        assertThat(RbdLayouts.optional("")).isEmpty();
    }

    @Test
    void enumsDecodeUnknownValues() {
        assertThat(SnapshotNamespace.of(3)).isEqualTo(SnapshotNamespace.MIRROR);
        assertThat(SnapshotNamespace.of(-1)).isEqualTo(SnapshotNamespace.UNKNOWN);
        assertThat(TrashEntry.Source.of(99)).isEqualTo(TrashEntry.Source.UNKNOWN);
    }
}
