"""The account as a whole."""

from fastapi import APIRouter, Response, status

from app.api.cookies import clear_session_cookie
from app.api.deps import ClientIP, CurrentUser, RuntimeDep, SessionDep
from app.models.user import AccountErasure
from app.services import accounts, erase_list

router = APIRouter(prefix="/account", tags=["account"])


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def erase_account(
    body: AccountErasure, user: CurrentUser, db: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> Response:
    """Erase the account and everything in it. This cannot be undone."""
    runtime.login_guard.reconfirm(
        user,
        ip,
        lambda: accounts.erase(
            db,
            user,
            password=body.password,
            store=runtime.blob_store,
            erased=erase_list.path_for(runtime.settings),
        ),
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, runtime.settings)
    return response
