using System.Buffers.Binary;
using Safemount.Fuse;

namespace Safemount.Fuse.Tests;

/// <summary>A decoded reply: fuse_out_header fields and the payload.</summary>
internal readonly record struct Reply(uint Len, int Error, ulong Unique, byte[] Payload)
{
    public static Reply Parse(byte[] raw)
    {
        Assert.That(raw.Length, Is.GreaterThanOrEqualTo(16), "reply shorter than fuse_out_header");
        return new Reply(
            BinaryPrimitives.ReadUInt32LittleEndian(raw),
            BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(4)),
            BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(8)),
            raw[16..]);
    }

    public uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(this.Payload.AsSpan(offset));

    public ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(this.Payload.AsSpan(offset));

    public ushort U16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(this.Payload.AsSpan(offset));
}

/// <summary>Runs a whole FuseSession over a <see cref="MemoryFuseDevice"/> until the queued
/// requests are used up (then the device says ENODEV and Run must return).</summary>
internal static class SessionHarness
{
    public static (Reply[] Replies, ListLogger Log, FuseSession Session) Run(TestFileSystem fs, IEnumerable<byte[]> requests, FuseSessionOptions? options = null, bool init = true)
    {
        var device = new MemoryFuseDevice(init ? requests.Prepend(Fixtures.KernelInit618) : requests);
        return Run(fs, device, () => device.Replies, options);
    }

    /// <summary>Runs over <paramref name="device"/>, whose queue already holds every request.</summary>
    public static (Reply[] Replies, ListLogger Log, FuseSession Session) Run(TestFileSystem fs, IFuseDevice device, Func<byte[][]> recorded, FuseSessionOptions? options = null)
    {
        var log = new ListLogger();
        var session = new FuseSession(device, fs, options ?? new FuseSessionOptions { WorkerThreads = 1 }, log);
        Exception? escaped = null;
        var runner = new Thread(() =>
        {
            try
            {
                session.Run();
            }
            catch (Exception e)
            {
                escaped = e;
            }
        });
        runner.Start();

        // Hang guard only (no timing assertion): a session that never returns fails the test.
        Assert.That(runner.Join(TimeSpan.FromMinutes(1)), Is.True, "FuseSession.Run did not return after ENODEV");
        Assert.That(escaped, Is.Null, "an exception escaped FuseSession.Run");
        Reply[] replies = [.. recorded().Select(Reply.Parse)];
        foreach (Reply r in replies)
        {
            Assert.That(r.Len, Is.EqualTo(16 + r.Payload.Length), "out_header.len must equal the bytes written");
        }

        return (replies, log, session);
    }

    /// <summary>Runs after INIT and returns the replies to <paramref name="requests"/> only.</summary>
    public static Reply[] RunAfterInit(TestFileSystem fs, params byte[][] requests)
    {
        var (replies, _, _) = Run(fs, requests);
        Assert.That(replies[0].Unique, Is.EqualTo(2UL), "first reply answers INIT");
        return replies[1..];
    }
}
