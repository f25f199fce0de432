package dev.nodekit.csi.rbd.ceph;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The librbd C functions nodekit calls (librbd.h, Ceph 16.2 / librbd.so.1), bound through JNA
 * interface mapping. Struct arrays are passed as raw {@link Memory} and decoded by
 * {@link RbdLayouts}, which documents each layout.
 */
interface Librbd extends Library {
    int RBD_IMAGE_OPTION_FORMAT = 0;
    int RBD_IMAGE_OPTION_FEATURES = 1;
    int RBD_IMAGE_OPTION_ORDER = 2;
    int RBD_IMAGE_OPTION_DATA_POOL = 10;
    int RBD_IMAGE_OPTION_CLONE_FORMAT = 12;

    void rbd_image_options_create(PointerByReference opts);

    void rbd_image_options_destroy(Pointer opts);

    int rbd_image_options_set_string(Pointer opts, int optname, String optval);

    int rbd_image_options_set_uint64(Pointer opts, int optname, long optval);

    int rbd_create4(Pointer ioctx, String name, long size, Pointer opts);

    int rbd_clone3(Pointer parentIoctx, String parentName, String parentSnapName, Pointer childIoctx,
            String childName, Pointer opts);

    int rbd_remove(Pointer ioctx, String name);

    int rbd_list2(Pointer ioctx, Memory images, LongByReference maxImages);

    void rbd_image_spec_list_cleanup(Memory images, long numImages);

    int rbd_trash_move(Pointer ioctx, String name, long delaySeconds);

    int rbd_trash_list(Pointer ioctx, Memory entries, LongByReference numEntries);

    void rbd_trash_list_cleanup(Memory entries, long numEntries);

    int rbd_trash_remove(Pointer ioctx, String imageId, boolean force);

    int rbd_open(Pointer ioctx, String name, PointerByReference image, String snapName);

    int rbd_open_read_only(Pointer ioctx, String name, PointerByReference image, String snapName);

    int rbd_open_by_id_read_only(Pointer ioctx, String id, PointerByReference image, String snapName);

    int rbd_close(Pointer image);

    /** rbd_image_info_t, 160 bytes; see {@link RbdLayouts#IMAGE_INFO_SIZE}. */
    int rbd_stat(Pointer image, Memory info, long infoSize);

    int rbd_get_size(Pointer image, LongByReference size);

    int rbd_get_features(Pointer image, LongByReference features);

    int rbd_get_id(Pointer image, byte[] id, long idLen);

    int rbd_get_parent(Pointer image, Memory parentImage, Memory parentSnap);

    void rbd_linked_image_spec_cleanup(Memory image);

    void rbd_snap_spec_cleanup(Memory snap);

    /** librbd_progress_fn_t: int (*)(uint64_t offset, uint64_t total, void *arg); 0 continues. */
    interface ProgressCallback extends Callback {
        int invoke(long offset, long total, Pointer arg);
    }

    /**
     * A progress callback that does nothing. librbd calls progress callbacks without a NULL check
     * (CProgressContext), so the {@code *_with_progress} / {@code rbd_resize2} family must get a
     * real function. Static: JNA must keep the native stub alive as long as librbd may call it.
     */
    ProgressCallback NO_PROGRESS = (offset, total, arg) -> 0;

    int rbd_resize2(Pointer image, long size, boolean allowShrink, ProgressCallback progress, Pointer cbData);

    int rbd_snap_create(Pointer image, String snapName);

    int rbd_snap_remove(Pointer image, String snapName);

    int rbd_snap_remove_by_id(Pointer image, long snapId);

    int rbd_snap_list(Pointer image, Memory snaps, IntByReference maxSnaps);

    void rbd_snap_list_end(Memory snaps);

    int rbd_snap_get_id(Pointer image, String snapName, LongByReference snapId);

    int rbd_snap_get_namespace_type(Pointer image, long snapId, IntByReference namespaceType);

    int rbd_snap_get_trash_namespace(Pointer image, long snapId, byte[] originalName, long maxLength);

    int rbd_flatten(Pointer image);

    int rbd_list_children3(Pointer image, Memory images, LongByReference maxImages);

    void rbd_linked_image_spec_list_cleanup(Memory images, long numImages);

    int rbd_metadata_set(Pointer image, String key, String value);

    int rbd_metadata_get(Pointer image, String key, byte[] value, LongByReference valLen);

    int rbd_metadata_remove(Pointer image, String key);

    int rbd_watchers_list(Pointer image, Memory watchers, LongByReference maxWatchers);

    void rbd_watchers_list_cleanup(Memory watchers, long numWatchers);
}
