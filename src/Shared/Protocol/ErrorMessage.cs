namespace Safemount.Shared.Protocol;

/// <summary>ERROR body: u32 code (<see cref="ProtocolErrorCode"/>), string reason (≤ MaxReasonBytes).</summary>
public readonly record struct ErrorMessage(ProtocolErrorCode Code, string Reason)
{
    public void Encode(MessageWriter w)
    {
        w.WriteUInt32((uint)Code);
        w.WriteString(Truncate(Reason), ProtocolLimits.MaxReasonBytes);
    }

    public static ErrorMessage Decode(ref MessageReader r)
    {
        ProtocolErrorCode code = (ProtocolErrorCode)r.ReadUInt32("code");
        string reason = TextSanitizer.OneLine(r.ReadString(ProtocolLimits.MaxReasonBytes, "reason"));
        r.EnsureEnd();
        return new(code, reason);
    }

    /// <summary>Decodes a received ERROR into the exception that ends the exchange (<see cref="ProtocolException.FromPeer"/>).</summary>
    internal static ProtocolException ToPeerException(ReceivedMessage m)
    {
        MessageReader r = m.Reader();
        ErrorMessage e = Decode(ref r);
        return new ProtocolException(e.Code, e.Reason, fromPeer: true);
    }

    /// <summary>Cuts a local reason to the wire limit (on a character boundary) and to one line.</summary>
    internal static string Truncate(string reason)
    {
        string line = TextSanitizer.OneLine(reason.Replace('\0', '?'));
        while (System.Text.Encoding.UTF8.GetByteCount(line) > ProtocolLimits.MaxReasonBytes)
        {
            line = line[..(line.Length - 1)];
            if (line.Length > 0 && char.IsHighSurrogate(line[^1]))
            {
                line = line[..(line.Length - 1)];
            }
        }

        return line;
    }
}
