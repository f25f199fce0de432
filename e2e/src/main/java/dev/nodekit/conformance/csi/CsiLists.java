package dev.nodekit.conformance.csi;

import static dev.nodekit.conformance.Expect.ok;
import static dev.nodekit.conformance.Expect.that;

import java.util.ArrayList;
import java.util.List;

import dev.nodekit.conformance.CheckFailed;
import dev.nodekit.spec.csi.v1.ListSnapshotsRequest;
import dev.nodekit.spec.csi.v1.ListSnapshotsResponse;
import dev.nodekit.spec.csi.v1.ListVolumesRequest;
import dev.nodekit.spec.csi.v1.ListVolumesResponse;

/** ListVolumes / ListSnapshots walks that follow {@code next_token} and check each page's bound. */
final class CsiLists {
    /** A walk that never ends is a plugin bug; stop it. */
    static final int MAX_PAGES = 10_000;

    private CsiLists() {
    }

    /** One page of a walk: its ids in order and the token it returned. */
    record Page(List<String> ids, String nextToken) {
        Page {
            ids = List.copyOf(ids);
        }
    }

    static Page volumePage(CsiTarget t, int maxEntries, String token) {
        ListVolumesResponse r = ok("ListVolumes(max_entries=" + maxEntries + ", starting_token='" + token + "')",
                () -> t.controller().listVolumes(ListVolumesRequest.newBuilder().setMaxEntries(maxEntries)
                        .setStartingToken(token).build()));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < r.getEntriesCount(); i++) {
            String id = r.getEntries(i).getVolume().getVolumeId();
            that(!id.isEmpty(), "ListVolumes entry %d has no volume_id", i);
            ids.add(id);
        }
        if (maxEntries > 0) {
            that(ids.size() <= maxEntries, "ListVolumes(max_entries=%d) returned %d entries", maxEntries, ids.size());
        }
        return new Page(ids, r.getNextToken());
    }

    static Page snapshotPage(CsiTarget t, ListSnapshotsRequest.Builder req) {
        ListSnapshotsRequest q = req.putAllSecrets(t.secrets()).build();
        ListSnapshotsResponse r = ok("ListSnapshots(max_entries=" + q.getMaxEntries() + ", starting_token='"
                + q.getStartingToken() + "')", () -> t.controller().listSnapshots(q));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < r.getEntriesCount(); i++) {
            String id = r.getEntries(i).getSnapshot().getSnapshotId();
            that(!id.isEmpty(), "ListSnapshots entry %d has no snapshot_id", i);
            ids.add(id);
        }
        if (q.getMaxEntries() > 0) {
            that(ids.size() <= q.getMaxEntries(), "ListSnapshots(max_entries=%d) returned %d entries",
                    q.getMaxEntries(), ids.size());
        }
        return new Page(ids, r.getNextToken());
    }

    /** Something that fetches the page after {@code token}. */
    @FunctionalInterface
    interface Pager {
        Page next(String token);
    }

    /** All ids of a walk from the start, in the order returned (duplicates kept, for the caller to judge). */
    static List<String> walk(Pager pager) {
        List<String> all = new ArrayList<>();
        String token = "";
        for (int n = 0; n < MAX_PAGES; n++) {
            Page p = pager.next(token);
            all.addAll(p.ids());
            if (p.nextToken().isEmpty()) {
                return all;
            }
            token = p.nextToken();
        }
        throw new CheckFailed("the list walk did not end after " + MAX_PAGES + " pages");
    }

    /** Every volume id, following tokens if the plugin pages even without max_entries. */
    static List<String> allVolumes(CsiTarget t) {
        return walk(token -> volumePage(t, 0, token));
    }
}
