namespace Safemount.Shared.Protocol;

/// <summary>ABORT body: string reason (≤ MaxReasonBytes), cut to one line on send and sanitised on receipt.</summary>
public readonly record struct AbortMessage(string Reason)
{
    public void Encode(MessageWriter w) =>
        w.WriteString(ErrorMessage.Truncate(Reason), ProtocolLimits.MaxReasonBytes);

    public static AbortMessage Decode(ref MessageReader r)
    {
        string reason = TextSanitizer.OneLine(r.ReadString(ProtocolLimits.MaxReasonBytes, "reason"));
        r.EnsureEnd();
        return new(reason);
    }
}
