"""A pynetdicom 3.0.4 Verification and Storage SCP, started by peers/pynetdicom-scp.yaml.

pynetdicom is a peer under test here, never the harness's engine. The command-line
echoscp of pynetdicom cannot check the called AE title, hence this small script.
"""

from __future__ import annotations

import argparse

from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ae-title", default="PYNSCP")
    parser.add_argument("--acse-timeout", type=float, default=30.0)
    parser.add_argument("--require-called-ae", action="store_true")
    args = parser.parse_args()

    ae = AE(args.ae_title)
    ae.add_supported_context(Verification)
    for context in AllStoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax)
    ae.require_called_aet = args.require_called_ae
    ae.maximum_associations = 64  # the harness runs scenarios in parallel
    ae.acse_timeout = args.acse_timeout
    ae.network_timeout = args.acse_timeout
    handlers = [
        (evt.EVT_C_ECHO, lambda event: 0x0000),
        (evt.EVT_C_STORE, lambda event: 0x0000),
    ]
    ae.start_server(("127.0.0.1", args.port), block=True, evt_handlers=handlers)


if __name__ == "__main__":
    main()
