using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>The mount sequence (ARCHITECTURE.md "Mount sequence", steps 1–6).</summary>
internal sealed partial class MountHelperApp
{
    private int MountSteps(HelperArguments args, MountPolicy policy)
    {
        string source = args.Source;
        using SafeFd mountpoint = OpenMountpoint(args.Mountpoint);
        SafeFd device;
        string devicePath;
        bool readOnly;
        try
        {
            (device, devicePath, readOnly) = OpenSource(source, policy.ReadOnly);
        }
        catch (SourceMissingException e) when (policy.NoFail)
        {
            // libmount answers a missing nofail source with success before any helper runs
            // (MNT_ERR_NOSOURCE); a path it cannot judge (an image file) reaches the helper,
            // which answers the same way: nothing mounted, exit 0, quiet unless -v.
            Say($"{source}: {e.Message}; nofail: nothing mounted");
            return HelperExitCode.Success;
        }

        policy = policy with { ReadOnly = readOnly };
        using (device)
        {
            ulong size = FileInterop.GetByteSize(device);
            Say($"{source}: using {devicePath}, {size} bytes, {(readOnly ? "read-only" : "read-write")}");
            using HelperClient client = ConnectService(source);
            // A read-write mount offers the service a second, O_DIRECT fd for file data writes.
            HelloFlags hello = (args.Sloppy ? HelloFlags.Sloppy : HelloFlags.None) | (readOnly ? HelloFlags.None : HelloFlags.DirectDevice);
            Say($"HELLO: protocol {ProtocolVersion.Min}-{ProtocolVersion.Max}, flags {hello}");
            uint version = HelperFailure(() => client.Handshake(hello));
            Say($"HELLO_REPLY: protocol {version}, capabilities {client.AgreedCapabilities}");
            using SafeFd? direct = (client.AgreedCapabilities & HelloFlags.DirectDevice) != 0 ? OpenDirect(device, devicePath) : null;
            using MountRequest request = new(source, args.Mountpoint, policy.FsOptions, readOnly, size, new SafeFd(device.Fd, ownsHandle: false),
                direct is null ? null : new SafeFd(direct.Fd, ownsHandle: false));
            Say($"MOUNT_REQUEST: {devicePath} on {args.Mountpoint}, options '{policy.FsOptions}', {(readOnly ? "ro" : "rw")}, {size} bytes; sending the device fd {device.Fd} with it"
                + (direct is null ? string.Empty : $", then DIRECT_DEVICE with the O_DIRECT fd {direct.Fd}"));
            HelperFailure(() => client.SendMount(request));
            Say("MOUNT_REQUEST sent, device fd passed (SCM_RIGHTS); waiting for the service's answer");
            MountAccepted accepted = HelperFailure(() => client.ReceiveMountReply());
            try
            {
                ServiceValueAllowlist.Check(accepted);
            }
            catch (MountFailureException e)
            {
                client.Abort(e.Message);
                throw;
            }

            foreach (string w in accepted.Warnings)
            {
                Warn(source, w);
            }

            if (accepted.ReadOnly && !readOnly)
            {
                Warn(source, "the service mounts it read-only");
                policy = policy with { ReadOnly = true };
            }

            Say($"MOUNT_ACCEPTED: {accepted.FsType}.{accepted.Subtype}, rootmode 0{Convert.ToString(accepted.RootMode, 8)}, blksize {accepted.BlockSize}, label '{accepted.Label}', uuid {new Guid(accepted.Uuid, bigEndian: true)}");

            using SafeFd fuse = OpenFuse(client);
            FuseFdFlags fdFlags = PrepareIomap(fuse, policy.Iomap, client);
            HelperFailure(() => client.SendFuseFd(fuse, fdFlags));
            Say($"FUSE_FD: /dev/fuse fd {fuse.Fd} passed (SCM_RIGHTS), flags {fdFlags}");
            HelperFailure(() => client.WaitFuseFdAccepted());
            Say("FUSE_FD_ACCEPTED: the service reads /dev/fuse");
            FuseMounter.Request mr = new(accepted.FsType, accepted.Subtype, devicePath, fuse, mountpoint, accepted.RootMode, accepted.BlockSize, policy);
            if (args.Fake)
            {
                Say($"fake mount (-f): would mount {devicePath} on {args.Mountpoint} with {FuseMounter.OptionString(mr)}, attr 0x{policy.MountAttributes:x}");
                client.Abort("fake mount (-f)");
                return HelperExitCode.Success;
            }

            try
            {
                Say($"mounting {accepted.FsType}.{accepted.Subtype} on {args.Mountpoint} with options {FuseMounter.OptionString(mr)}, attr 0x{policy.MountAttributes:x}");
                string how = MountWithDeadline(mr, client);
                Say($"mounted {devicePath} on {args.Mountpoint} with {(how == "fsmount" ? "fsopen/fsconfig/fsmount/move_mount" : how)}");
            }
            catch (ErrnoException e)
            {
                client.Abort(e.Message);
                throw new MountFailureException($"mount on {args.Mountpoint} failed: {e.Message}");
            }

            try
            {
                Say("waiting for READY (the service answers the kernel's FUSE_INIT first)");
                client.WaitReady();
            }
            catch (ProtocolException e)
            {
                Errno u = MountInterop.Umount2(args.Mountpoint, MountInterop.MNT_DETACH);
                client.Abort($"no READY: {e.Message}");
                string detach = u == Errno.None ? "mount detached" : $"detaching the mount failed: {ErrnoException.Describe(u)}";
                throw new MountFailureException($"{Describe(e)} ({detach})");
            }

            Say("READY: the service serves the mount");

            // After READY: the service has answered FUSE_INIT, whose processing (process_init_reply)
            // sets the bdi's window to min(current, max_readahead) and would undo an earlier raise.
            MatchReadahead(device, accepted.FsType);
            return HelperExitCode.Success;
        }
    }

    /// <summary>
    /// <see cref="FuseMounter.Mount"/> on a thread of its own, bounded by the READY deadline: with
    /// synchronous INIT (FUSE_DEV_IOC_SYNC_INIT) fsmount(2) waits in the kernel until the service
    /// answers FUSE_INIT, and a service that never does would hold the helper forever. On expiry
    /// the mount is abandoned before move_mount (nothing becomes visible) and the helper fails;
    /// its exit kills the thread still waiting in the kernel (the wait is killable), which
    /// releases the half-made superblock. State: 0 running, 1 attaching, 2 abandoned.
    /// </summary>
    private string MountWithDeadline(FuseMounter.Request mr, HelperClient client)
    {
        int state = 0;
        string? how = null;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        ManualResetEventSlim done = new();
        Thread mounter = new(() =>
        {
            try
            {
                how = FuseMounter.Mount(mr, () => Interlocked.CompareExchange(ref state, 1, 0) == 0);
            }
            catch (Exception e)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                done.Set();
            }
        })
        { IsBackground = true, Name = "fsmount" };
        mounter.Start();
        if (!done.Wait(Timeouts.Ready) && Interlocked.CompareExchange(ref state, 2, 0) == 0)
        {
            // The event is left to the finalizer: the thread may still set it.
            string text = $"the service did not answer the kernel's FUSE_INIT within {Timeouts.Ready.TotalSeconds:0} s; nothing was mounted";
            client.Abort(text);
            throw new MountFailureException(text);
        }

        // Attaching (state 1) is move_mount alone and does not wait for the service.
        done.Wait();
        done.Dispose();
        failure?.Throw();
        return how!;
    }

    /// <summary>
    /// The fuseblk mount's readahead window set to the device's (<see cref="FuseReadahead"/>).
    /// Performance only: when sysfs is missing or read-only (a container) the mount stays as it
    /// is, with the FUSE default of 128 KiB, and -v says why. A "fuse" mount (no block device) has
    /// no device window to copy.
    /// </summary>
    private void MatchReadahead(SafeFd device, string fsType)
    {
        if (fsType != "fuseblk")
        {
            return;
        }

        StatxResult st = FileInterop.FStat(device);
        try
        {
            Say($"readahead: {FuseReadahead.Match(st.RdevMajor, st.RdevMinor)} set on bdi {st.RdevMajor}:{st.RdevMinor}-fuseblk");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Say($"readahead: left at the FUSE default (128 KiB): {e.Message}");
        }
    }

    private static SafeFd OpenMountpoint(string path)
    {
        SafeFd fd;
        try
        {
            fd = FileInterop.Open(path, FileInterop.O_PATH | FileInterop.O_DIRECTORY);
        }
        catch (ErrnoException e)
        {
            throw new MountFailureException($"mount point {path}: {ErrnoException.Describe(e.Errno)}");
        }

        if (!FileInterop.FStat(fd).IsDirectory)
        {
            fd.Dispose();
            throw new MountFailureException($"mount point {path} is not a directory");
        }

        return fd;
    }

    /// <summary>Opens the source; a regular file is attached to a loop device. Returns the device to use, its path and the effective read-only state.</summary>
    private (SafeFd Device, string Path, bool ReadOnly) OpenSource(string source, bool readOnly)
    {
        SafeFd fd;
        try
        {
            fd = FileInterop.Open(source, readOnly ? FileInterop.O_RDONLY : FileInterop.O_RDWR);
        }
        catch (ErrnoException e) when (!readOnly && e.Errno is Errno.EROFS or Errno.EACCES)
        {
            fd = OpenReadOnlyFallback(source);
            readOnly = true;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENXIO or Errno.ENODEV)
        {
            throw new SourceMissingException($"cannot open: {ErrnoException.Describe(e.Errno)}");
        }
        catch (ErrnoException e)
        {
            throw new MountFailureException($"cannot open: {ErrnoException.Describe(e.Errno)}");
        }

        StatxResult st = FileInterop.FStat(fd);
        if (st.IsBlockDevice)
        {
            if (!readOnly && FileInterop.IsBlockDeviceReadOnly(fd))
            {
                fd.Dispose();
                fd = OpenReadOnlyFallback(source);
                readOnly = true;
            }

            return (fd, source, readOnly);
        }

        if (!st.IsRegular)
        {
            fd.Dispose();
            throw new MountFailureException("not a block device or regular file");
        }

        using (fd)
        {
            try
            {
                (SafeFd loop, string loopPath) = LoopInterop.Attach(fd, readOnly);
                Say($"{source}: attached to {loopPath}");
                return (loop, loopPath, readOnly);
            }
            catch (ErrnoException e)
            {
                throw new MountFailureException($"cannot attach to a loop device: {e.Message}");
            }
        }
    }

    /// <summary>
    /// A second open file description of <paramref name="device"/>, O_RDWR|O_DIRECT, opened through
    /// /proc/self/fd (the same inode, no path lookup that could name another device) and checked by
    /// fstat to be the same device. Null, with a -v line, when the device refuses O_DIRECT: the
    /// service then writes everything through the page cache, as before.
    /// </summary>
    private SafeFd? OpenDirect(SafeFd device, string devicePath)
    {
        SafeFd direct;
        try
        {
            direct = FileInterop.Open($"/proc/self/fd/{device.Fd}", FileInterop.O_RDWR | FileInterop.O_DIRECT);
        }
        catch (ErrnoException e)
        {
            Say($"{devicePath}: no O_DIRECT fd ({ErrnoException.Describe(e.Errno)}); file data goes through the page cache");
            return null;
        }

        StatxResult a = FileInterop.FStat(device);
        StatxResult b = FileInterop.FStat(direct);
        if (a.Mode != b.Mode || a.RdevMajor != b.RdevMajor || a.RdevMinor != b.RdevMinor || a.DevMajor != b.DevMajor || a.DevMinor != b.DevMinor || a.Inode != b.Inode)
        {
            direct.Dispose();
            throw new MountFailureException($"reopening {devicePath} with O_DIRECT gave another file");
        }

        return direct;
    }

    private SafeFd OpenReadOnlyFallback(string source)
    {
        try
        {
            SafeFd fd = FileInterop.Open(source, FileInterop.O_RDONLY);
            Warn(source, "write-protected, mounting read-only");
            return fd;
        }
        catch (ErrnoException e)
        {
            throw new MountFailureException($"cannot open: {ErrnoException.Describe(e.Errno)}");
        }
    }

    private SafeFd OpenFuse(HelperClient client)
    {
        SafeFd fuse;
        try
        {
            fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        }
        catch (ErrnoException e)
        {
            client.Abort("cannot open /dev/fuse");
            throw new MountFailureException($"cannot open /dev/fuse: {ErrnoException.Describe(e.Errno)}");
        }

        // The fd the kernel is told to serve must be the FUSE device itself (char 10:229), not
        // whatever /dev/fuse names in this mount namespace.
        StatxResult st = FileInterop.FStat(fuse);
        if (!st.IsCharDevice || st.RdevMajor != ServiceEndpoint.FuseMajor || st.RdevMinor != ServiceEndpoint.FuseMinor)
        {
            fuse.Dispose();
            client.Abort("/dev/fuse is not the FUSE device");
            throw new MountFailureException($"/dev/fuse is not the FUSE device (char {ServiceEndpoint.FuseMajor}:{ServiceEndpoint.FuseMinor})");
        }

        int r = FileInterop.IoctlValue(fuse, IoctlNumbers.FUSE_DEV_IOC_SYNC_INIT, 0);
        if (r < 0 && (Errno)(-r) is not Errno.ENOTTY and not Errno.EINVAL)
        {
            fuse.Dispose();
            client.Abort("FUSE_DEV_IOC_SYNC_INIT failed");
            throw new MountFailureException($"FUSE_DEV_IOC_SYNC_INIT: {ErrnoException.Describe((Errno)(-r))}");
        }

        Say(r == 0 ? "/dev/fuse: synchronous INIT" : "/dev/fuse: kernel has no synchronous INIT");
        return fuse;
    }

    private static string Describe(ProtocolException e) =>
        e.FromPeer ? e.Message : $"service protocol error: {e.Message}";

    private static void HelperFailure(Action step) => HelperFailure<int>(() =>
    {
        step();
        return 0;
    });

    private static T HelperFailure<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (ProtocolException e)
        {
            throw new MountFailureException(Describe(e));
        }
    }
}
