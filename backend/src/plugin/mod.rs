//! The plugin's behaviour: the generated [`Api`] trait implemented over a [`Host`].
//!
//! Every task, pull-request and repository route scopes its lookups to the caller's project
//! (the reference plugin did not: IDOR), and each operation folds its lookups into as few host
//! round trips as it can, because each DB call is its own transaction on the host.

mod branches;
mod capability;
mod events;
mod integration;
mod pr_workflow;
mod pull_requests;
mod repositories;
mod support;
mod webhook;

#[cfg(test)]
mod tests;

use crate::abi::envelope::Request;
use crate::generated::api::*;
use crate::host::Host;
use uuid::Uuid;

/// The events this plugin publishes (declared as automation triggers in the spec).
pub mod topics {
    pub const PR_LINKED: &str = "github.pr_linked";
    pub const PR_UPDATED: &str = "github.pr_updated";
    pub const BRANCH_LINKED: &str = "github.branch_linked";
}

/// Per-call handler state: the host.
pub struct Plugin<'h, H: Host> {
    host: &'h H,
}

impl<'h, H: Host> Plugin<'h, H> {
    pub fn new(host: &'h H) -> Self {
        Self { host }
    }

    /// Handles one subscribed core event (`task.deleted`).
    pub fn handle_event(&self, topic: &str, payload: &[u8]) {
        events::handle(self, topic, payload);
    }
}

impl<H: Host> Api for Plugin<'_, H> {
    fn get_integration(
        &self,
        _req: &Request,
        project_id: Uuid,
    ) -> Result<GetIntegrationResponse, ApiError<op::GetIntegration>> {
        integration::get(self, project_id).map(GetIntegrationResponse::Ok)
    }

    fn set_token(
        &self,
        _req: &Request,
        project_id: Uuid,
        body: SetTokenRequest,
    ) -> Result<SetTokenResponse, ApiError<op::SetToken>> {
        integration::set_token(self, project_id, body).map(SetTokenResponse::Ok)
    }

    fn delete_token(
        &self,
        _req: &Request,
        project_id: Uuid,
    ) -> Result<DeleteTokenResponse, ApiError<op::DeleteToken>> {
        integration::delete(self, project_id).map(DeleteTokenResponse::Ok)
    }

    fn list_accessible_repositories(
        &self,
        _req: &Request,
        project_id: Uuid,
        query: ListAccessibleRepositoriesQuery,
    ) -> Result<ListAccessibleRepositoriesResponse, ApiError<op::ListAccessibleRepositories>> {
        integration::accessible_repositories(self, project_id, query)
            .map(ListAccessibleRepositoriesResponse::Ok)
    }

    fn list_linked_repositories(
        &self,
        _req: &Request,
        project_id: Uuid,
    ) -> Result<ListLinkedRepositoriesResponse, ApiError<op::ListLinkedRepositories>> {
        repositories::list(self, project_id).map(ListLinkedRepositoriesResponse::Ok)
    }

    fn link_repository(
        &self,
        _req: &Request,
        project_id: Uuid,
        body: LinkRepositoryRequest,
    ) -> Result<LinkRepositoryResponse, ApiError<op::LinkRepository>> {
        repositories::link(self, project_id, body).map(LinkRepositoryResponse::Created)
    }

    fn unlink_repository(
        &self,
        _req: &Request,
        project_id: Uuid,
        repo_id: Uuid,
    ) -> Result<UnlinkRepositoryResponse, ApiError<op::UnlinkRepository>> {
        repositories::unlink(self, project_id, repo_id).map(UnlinkRepositoryResponse::Ok)
    }

    fn list_task_pull_requests(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
    ) -> Result<ListTaskPullRequestsResponse, ApiError<op::ListTaskPullRequests>> {
        pull_requests::list(self, project_id, task_id).map(ListTaskPullRequestsResponse::Ok)
    }

    fn link_pull_request(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        body: LinkPullRequestRequest,
    ) -> Result<LinkPullRequestResponse, ApiError<op::LinkPullRequest>> {
        pull_requests::link(self, project_id, task_id, body).map(LinkPullRequestResponse::Created)
    }

    fn unlink_pull_request(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        pr_id: Uuid,
    ) -> Result<UnlinkPullRequestResponse, ApiError<op::UnlinkPullRequest>> {
        pull_requests::unlink(self, project_id, task_id, pr_id)
            .map(|()| UnlinkPullRequestResponse::NoContent)
    }

    fn list_task_branches(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
    ) -> Result<ListTaskBranchesResponse, ApiError<op::ListTaskBranches>> {
        branches::list(self, project_id, task_id).map(ListTaskBranchesResponse::Ok)
    }

    fn create_branch(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        body: CreateBranchRequest,
    ) -> Result<CreateBranchResponse, ApiError<op::CreateBranch>> {
        branches::create(self, project_id, task_id, body).map(CreateBranchResponse::Created)
    }

    fn list_repositories(
        &self,
        _req: &Request,
        project_id: Uuid,
    ) -> Result<ListRepositoriesResponse, ApiError<op::ListRepositories>> {
        capability::list(self, project_id).map(ListRepositoriesResponse::Ok)
    }

    fn get_clone_info(
        &self,
        req: &Request,
        project_id: Uuid,
        repo_id: Uuid,
        query: GetCloneInfoQuery,
    ) -> Result<GetCloneInfoResponse, ApiError<op::GetCloneInfo>> {
        capability::clone_info(self, req, project_id, repo_id, query.task_id)
            .map(GetCloneInfoResponse::Ok)
    }

    fn create_pull_request(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        repo_id: Uuid,
        body: CreatePullRequestRequest,
    ) -> Result<CreatePullRequestResponse, ApiError<op::CreatePullRequest>> {
        pr_workflow::create(self, project_id, task_id, repo_id, body).map(|c| match c {
            pr_workflow::Creation::Created(v) => CreatePullRequestResponse::Created(v),
            pr_workflow::Creation::Existing(v) => CreatePullRequestResponse::Ok(v),
        })
    }

    fn get_pull_request_details(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        pr_id: Uuid,
    ) -> Result<GetPullRequestDetailsResponse, ApiError<op::GetPullRequestDetails>> {
        pr_workflow::details(self, project_id, task_id, pr_id)
            .map(GetPullRequestDetailsResponse::Ok)
    }

    fn get_pull_request_ci_status(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        pr_id: Uuid,
    ) -> Result<GetPullRequestCiStatusResponse, ApiError<op::GetPullRequestCiStatus>> {
        pr_workflow::ci_status(self, project_id, task_id, pr_id)
            .map(GetPullRequestCiStatusResponse::Ok)
    }

    fn comment_on_pull_request(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        pr_id: Uuid,
        body: PullRequestCommentRequest,
    ) -> Result<CommentOnPullRequestResponse, ApiError<op::CommentOnPullRequest>> {
        pr_workflow::comment(self, project_id, task_id, pr_id, body)
            .map(CommentOnPullRequestResponse::Created)
    }

    fn review_pull_request(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        pr_id: Uuid,
        body: PullRequestReviewRequest,
    ) -> Result<ReviewPullRequestResponse, ApiError<op::ReviewPullRequest>> {
        pr_workflow::review(self, project_id, task_id, pr_id, body)
            .map(ReviewPullRequestResponse::Created)
    }

    fn link_branch(
        &self,
        _req: &Request,
        project_id: Uuid,
        task_id: Uuid,
        body: LinkBranchRequest,
    ) -> Result<LinkBranchResponse, ApiError<op::LinkBranch>> {
        pr_workflow::link_branch(self, project_id, task_id, body).map(LinkBranchResponse::Created)
    }

    fn receive_webhook(
        &self,
        req: &Request,
        project_id: Uuid,
    ) -> Result<ReceiveWebhookResponse, ApiError<op::ReceiveWebhook>> {
        webhook::receive(self, req, project_id).map(ReceiveWebhookResponse::Ok)
    }
}
