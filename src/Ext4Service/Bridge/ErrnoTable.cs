using Safemount.Ext4;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The one place where exceptions become errno values (STYLE.md rule 10). Corruption found at
/// run time answers EUCLEAN (EFSCORRUPTED), a checksum mismatch EBADMSG (EFSBADCRC), as the
/// kernel's ext4 does; device failures answer EIO; a change refused because errors=remount-ro
/// turned the volume read-only answers EROFS, and anything after errors=panic shut it down EIO.
/// </summary>
internal static class ErrnoTable
{
    public static Errno ToErrno(Exception exception) => exception switch
    {
        Ext4ChecksumException => Errno.EBADMSG,
        Ext4CorruptionException => Errno.EUCLEAN,
        Ext4IOException => Errno.EIO,
        Ext4ReadOnlyException => Errno.EROFS,
        Ext4ShutDownException => Errno.EIO,
        ErrnoException e => e.Errno,
        OutOfMemoryException => Errno.ENOMEM,
        _ => Errno.EIO,
    };
}
