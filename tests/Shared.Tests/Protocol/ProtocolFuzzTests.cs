using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

/// <summary>
/// Mutation fuzzing of each side's message parser, through the real receive path (a
/// SOCK_SEQPACKET socketpair, <see cref="MessageChannel"/> framing, the endpoint's step): valid
/// messages of every type the side receives are mutated (bit flips, byte overwrites, truncation,
/// extension, header length and type-tag rewrites, 0 or 2 fds instead of 1) with fixed seeds.
/// Every outcome must be a parse or a <see cref="ProtocolException"/>; anything else fails the
/// test, and no received fd may stay open.
/// </summary>
[TestFixture]
public sealed class ProtocolFuzzTests
{
    private const int Iterations = 3000;

    private static readonly ProtocolTimeouts Short = new() { Step = TimeSpan.FromSeconds(2), MountReply = TimeSpan.FromSeconds(2), Ready = TimeSpan.FromSeconds(2) };

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void ServiceSideParsesOrRejectsEveryMutation(int seed)
    {
        using SafeFd file = TestFds.TempFile(4096, out string path);
        try
        {
            (MessageType Type, byte[] Bytes)[] valid =
            [
                (MessageType.Hello, Encode(MessageType.Hello, w => new HelloMessage(1, 1, 1).Encode(w))),
                (MessageType.MountRequest, Encode(MessageType.MountRequest, w => new MountRequest("/dev/sdb1", "/mnt/usb", "errors=remount-ro,noload", true, 1 << 20, file).EncodeBody(w))),
                (MessageType.FuseFd, Encode(MessageType.FuseFd, _ => { })),
                (MessageType.Abort, Encode(MessageType.Abort, w => new AbortMessage("mount(2) failed: EPERM").Encode(w))),
            ];
            Random random = new(seed);
            int parsed = 0;
            for (int i = 0; i < Iterations; i++)
            {
                (MessageType type, byte[] bytes) = valid[random.Next(valid.Length)];
                byte[] datagram = Mutate(bytes, random);
                int fds = FdCount(type, random);
                (SafeFd raw, SafeFd ours) = TestFds.SeqPacketPair();
                using (raw)
                using (ServiceEndpoint ep = new(ours, Short))
                {
                    Send(raw, datagram, file, fds);
                    try
                    {
                        switch (type)
                        {
                            case MessageType.Hello:
                                ep.Handshake();
                                break;
                            case MessageType.MountRequest:
                                ep.ReceiveMountRequest().Dispose();
                                break;
                            case MessageType.FuseFd:
                                ep.ReceiveFuseFd().Dispose();
                                break;
                            default:
                                raw.Dispose();
                                ep.WaitForHelperEnd(TimeSpan.FromSeconds(2));
                                break;
                        }

                        parsed++;
                    }
                    catch (ProtocolException)
                    {
                    }
                    catch (Exception e)
                    {
                        Assert.Fail($"seed {seed} iteration {i}: {type} mutated to {Convert.ToHexString(datagram)} with {fds} fds threw {e}");
                    }
                }
            }

            Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1), "every fd the service received was closed");
            TestContext.Out.WriteLine($"seed {seed}: {parsed} of {Iterations} mutations parsed, the rest refused with ProtocolException");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void HelperSideParsesOrRejectsEveryMutation(int seed)
    {
        using SafeFd file = TestFds.TempFile(4096, out string path);
        try
        {
            MountAccepted accepted = new()
            {
                Label = "usb-stick",
                Uuid = Enumerable.Range(1, 16).Select(b => (byte)b).ToArray(),
                Warnings = ["journal replayed in memory", "read-only: unknown RO_COMPAT feature 0x8000"],
            };
            (MessageType Type, byte[] Bytes)[] valid =
            [
                (MessageType.HelloReply, Encode(MessageType.HelloReply, w => w.WriteUInt32(1))),
                (MessageType.MountAccepted, Encode(MessageType.MountAccepted, accepted.EncodeBody)),
                (MessageType.Error, Encode(MessageType.Error, w => new ErrorMessage(ProtocolErrorCode.UnsupportedFeature, "unsupported INCOMPAT feature 0x10000").Encode(w))),
                (MessageType.FuseFdAccepted, Encode(MessageType.FuseFdAccepted, _ => { })),
                (MessageType.Ready, Encode(MessageType.Ready, _ => { })),
            ];
            Random random = new(seed);
            int parsed = 0;
            for (int i = 0; i < Iterations; i++)
            {
                (MessageType type, byte[] bytes) = valid[random.Next(valid.Length)];
                byte[] datagram = Mutate(bytes, random);
                int fds = random.Next(8) == 0 ? 1 + random.Next(2) : 0;
                (SafeFd raw, SafeFd ours) = TestFds.SeqPacketPair();
                using (raw)
                using (HelperClient client = new(ours, Short))
                {
                    Send(raw, datagram, file, fds);
                    try
                    {
                        switch (type)
                        {
                            case MessageType.HelloReply:
                                client.Handshake();
                                break;
                            case MessageType.MountAccepted:
                            case MessageType.Error:
                                client.ReceiveMountReply();
                                break;
                            case MessageType.FuseFdAccepted:
                                client.WaitFuseFdAccepted();
                                break;
                            default:
                                client.WaitReady();
                                break;
                        }

                        parsed++;
                    }
                    catch (ProtocolException)
                    {
                    }
                    catch (Exception e)
                    {
                        Assert.Fail($"seed {seed} iteration {i}: {type} mutated to {Convert.ToHexString(datagram)} with {fds} fds threw {e}");
                    }
                }
            }

            Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1), "every fd the helper received was closed");
            TestContext.Out.WriteLine($"seed {seed}: {parsed} of {Iterations} mutations parsed, the rest refused with ProtocolException");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Encode(MessageType type, Action<MessageWriter> body)
    {
        MessageWriter w = new(type);
        body(w);
        return w.Message.ToArray();
    }

    /// <summary>1 fd for the types that carry one, sometimes 0 or 2; sometimes 1 on a type that carries none.</summary>
    private static int FdCount(MessageType type, Random random)
    {
        int carried = MessageChannel.FdsCarried(type);
        return random.Next(6) switch
        {
            0 => 0,
            1 => 2,
            _ => carried,
        };
    }

    /// <summary>One to four mutations of a copy of <paramref name="message"/>.</summary>
    private static byte[] Mutate(byte[] message, Random random)
    {
        List<byte> b = [.. message];
        int rounds = 1 + random.Next(4);
        for (int k = 0; k < rounds; k++)
        {
            int at = b.Count == 0 ? 0 : random.Next(b.Count);
            switch (random.Next(9))
            {
                case 0 when b.Count > 0:
                    b[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when b.Count > 0:
                    b[at] = (byte)random.Next(256);
                    break;
                case 2 when b.Count > 0:
                    b[at] = random.Next(2) == 0 ? (byte)0xFF : (byte)0;
                    break;
                case 3:
                    b.RemoveRange(at, b.Count - at);
                    break;
                case 4:
                    for (int n = random.Next(1, 64); n > 0; n--)
                    {
                        b.Insert(at, (byte)random.Next(256));
                    }

                    break;
                case 5 when b.Count >= 8:
                    // The header's body length: off by a little, or huge.
                    uint len = random.Next(3) switch { 0 => (uint)(b.Count - 8 + random.Next(-4, 5)), 1 => uint.MaxValue, _ => (uint)random.Next(1 << 20) };
                    b[4] = (byte)len;
                    b[5] = (byte)(len >> 8);
                    b[6] = (byte)(len >> 16);
                    b[7] = (byte)(len >> 24);
                    break;
                case 6 when b.Count >= 4:
                    b[0] = (byte)random.Next(12);
                    b[1] = b[2] = b[3] = 0;
                    break;
                case 7 when b.Count >= 12:
                    // A string or count field (after the header, 4-aligned) rewritten to a large value.
                    int field = 8 + (4 * random.Next((b.Count - 8) / 4));
                    uint v = random.Next(2) == 0 ? 0xFFFFFFF0u : (uint)random.Next(70000);
                    b[field] = (byte)v;
                    b[field + 1] = (byte)(v >> 8);
                    b[field + 2] = (byte)(v >> 16);
                    b[field + 3] = (byte)(v >> 24);
                    break;
                default:
                    // Keep the header consistent with a changed body, so the body parser is reached.
                    if (b.Count >= 8)
                    {
                        uint body = (uint)(b.Count - 8);
                        b[4] = (byte)body;
                        b[5] = (byte)(body >> 8);
                        b[6] = (byte)(body >> 16);
                        b[7] = (byte)(body >> 24);
                    }

                    break;
            }
        }

        return [.. b];
    }

    /// <summary>One datagram with <paramref name="fds"/> copies of <paramref name="fd"/>.</summary>
    private static void Send(SafeFd raw, byte[] datagram, SafeFd fd, int fds)
    {
        SafeFd[] list = Enumerable.Repeat(fd, fds).ToArray();
        long n = SocketInterop.SendMessage(raw, datagram, list);
        Assert.That(n, Is.EqualTo(datagram.Length), "the fuzzer's own send");
    }
}
