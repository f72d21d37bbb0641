using Microsoft.Extensions.Logging;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// Serves one FUSE connection: worker threads each block in read() on the device, decode one
/// request, call the <see cref="IFuseFileSystem"/> and write exactly one reply (none for
/// FORGET, BATCH_FORGET and INTERRUPT).
///
/// Lifecycle: <see cref="Run"/> serves FUSE_INIT on the calling thread alone; once INIT has
/// been answered it starts the other <see cref="FuseSessionOptions.WorkerThreads"/> - 1
/// workers. Every worker stops on ENODEV (unmounted or aborted), after DESTROY, after a refused
/// INIT, or on an unexpected read() error; Run returns when all have stopped.
/// Buffers: each worker owns one request buffer and one reply buffer of
/// 40 + max_write + 4096 bytes, so the READ path allocates nothing per request. They are
/// allocated uninitialised (never read beyond what was written into them), so a worker's start
/// costs no 2 MiB memset and page faults before it can answer.
/// </summary>
public sealed partial class FuseSession
{
    private readonly IFuseDevice device;
    private readonly IFuseFileSystem fs;
    private readonly FuseSessionOptions options;
    private readonly ILogger logger;
    private readonly int bufferSize;
    private readonly (ulong Seconds, uint Nanoseconds) entryValid;
    private readonly (ulong Seconds, uint Nanoseconds) attrValid;

    /// <summary>Guards <see cref="extraWorkers"/>.</summary>
    private readonly Lock workersLock = new();
    private readonly List<Thread> extraWorkers = [];

    /// <summary>Set once, by the worker that answered INIT, before the INIT reply is written;
    /// read by all workers afterwards.</summary>
    private volatile bool initialized;

    /// <summary>Set when the session must end; workers exit after their current request.</summary>
    private volatile bool stopping;

    /// <summary>1 once the end of the session has been logged (logged once).</summary>
    private int stopLogged;

    /// <summary>Negotiated values; written before <see cref="initialized"/> is set.</summary>
    private FuseInitResult initResult;

    /// <summary>fuse_attr.flags every regular file's attr carries: FUSE_ATTR_IOMAP |
    /// FUSE_ATTR_EXCLUSIVE once FUSE_IOMAP was taken, else 0. Written with
    /// <see cref="initResult"/>, before <see cref="initialized"/> is set.</summary>
    private uint regularFileAttrFlags;

    private int runStarted;

    public FuseSession(IFuseDevice device, IFuseFileSystem fs, FuseSessionOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WorkerThreads, 1, nameof(options.WorkerThreads));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPages, (ushort)1, nameof(options.MaxPages));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TimeGranularityNs, 1U, nameof(options.TimeGranularityNs));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.TimeGranularityNs, 1_000_000_000U, nameof(options.TimeGranularityNs));
        this.device = device;
        this.fs = fs;
        this.options = options;
        this.logger = logger;

        // in_header + the largest op struct (write_in 40 is the largest before data) + max_write,
        // with a page of slack as libfuse keeps; never below the kernel's FUSE_MIN_READ_BUFFER.
        int maxWrite = options.MaxPages * FuseAbi.PageSize;
        this.bufferSize = Math.Max(FuseAbi.FUSE_MIN_READ_BUFFER, FuseInHeader.SizeOf + maxWrite + FuseAbi.PageSize);
        this.entryValid = FuseTimeout.Split(options.EntryTimeout);
        this.attrValid = FuseTimeout.Split(options.AttrTimeout);
    }

    /// <summary>Raised once, on a worker thread, after the FUSE_INIT reply has been written.</summary>
    public event Action<FuseInitResult>? Initialized;

    /// <summary>The negotiated INIT parameters, once INIT has been answered; null before.</summary>
    public FuseInitResult? InitResult => this.initialized ? this.initResult : null;

    /// <summary>Size of each worker's request and reply buffer, in bytes.</summary>
    internal int BufferSize => this.bufferSize;

    /// <summary>Workers started besides the one in <see cref="Run"/> (0 until INIT is answered
    /// and <see cref="Initialized"/> has returned).</summary>
    internal int ExtraWorkersStarted
    {
        get
        {
            lock (this.workersLock)
            {
                return this.extraWorkers.Count;
            }
        }
    }

    /// <summary>Blocks serving requests until the connection ends. Never throws for anything
    /// the kernel or the file system does; may be called once.</summary>
    public void Run()
    {
        if (Interlocked.Exchange(ref this.runStarted, 1) != 0)
        {
            throw new InvalidOperationException("FuseSession.Run may be called once");
        }

        this.WorkerLoop();

        Thread[] others;
        lock (this.workersLock)
        {
            others = [.. this.extraWorkers];
        }

        foreach (Thread t in others)
        {
            t.Join();
        }
    }

    /// <summary>Starts the remaining workers once INIT is answered (INIT handler only).</summary>
    private void StartExtraWorkers()
    {
        lock (this.workersLock)
        {
            if (this.extraWorkers.Count != 0)
            {
                return;
            }

            for (int i = 1; i < this.options.WorkerThreads; i++)
            {
                var t = new Thread(this.WorkerLoop)
                {
                    IsBackground = true,
                    Name = $"fuse-worker-{i}",
                };
                this.extraWorkers.Add(t);
                t.Start();
            }
        }
    }

    private void WorkerLoop()
    {
        try
        {
            // Not zeroed: read() fills the first n bytes and only those are parsed; the pages
            // of a fresh large-object allocation are touched only when the kernel writes them.
            byte[] request = GC.AllocateUninitializedArray<byte>(this.bufferSize);
            var reply = new FuseReplyWriter(this.bufferSize, this.device, this.logger);
            while (!this.stopping)
            {
                int n = this.device.Read(request);
                if (n <= 0)
                {
                    Errno error = n == 0 ? Errno.ENODEV : (Errno)(-n);

                    // EINTR/EAGAIN: retry. ENOENT: the request was interrupted before we got it.
                    if (error is Errno.EINTR or Errno.EAGAIN or Errno.ENOENT)
                    {
                        continue;
                    }

                    if (error != Errno.ENODEV)
                    {
                        FuseLog.DeviceReadFailed(this.logger, error);
                    }

                    this.Stop(error == Errno.ENODEV ? "connection gone (ENODEV)" : $"read() failed with {error}");
                    return;
                }

                this.ProcessRequest(request.AsSpan(0, n), reply);
            }
        }
        catch (Exception e)
        {
            FuseLog.WorkerFailed(this.logger, e);
            this.Stop("worker failed");
        }
    }

    private void Stop(string reason)
    {
        this.stopping = true;
        if (Interlocked.Exchange(ref this.stopLogged, 1) == 0)
        {
            FuseLog.SessionEnded(this.logger, reason);
        }
    }
}
