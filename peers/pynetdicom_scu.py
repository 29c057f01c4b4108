"""A pynetdicom 3.0.4 Verification SCU, started by peers/pynetdicom-scu.yaml per scenario.

It associates with the harness, sends one C-ECHO, then releases: the requestor under test.
pynetdicom is a peer under test here, never the harness's engine. Exit code 0 when the
association was accepted and the echo answered with success.
"""

from __future__ import annotations

import argparse
import sys

from pynetdicom import AE
from pynetdicom.sop_class import Verification


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--called-ae", default="ANY-SCP")
    parser.add_argument("--calling-ae", default="PYNSCU")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()

    ae = AE(args.calling_ae)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = args.timeout
    assoc = ae.associate(args.host, args.port, ae_title=args.called_ae)
    if not assoc.is_established:
        sys.stdout.write("association not established\n")
        return 1
    status = assoc.send_c_echo()
    assoc.release()
    ok = status is not None and "Status" in status and status.Status == 0
    sys.stdout.write(f"C-ECHO status: {status.Status if ok else 'none'}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
