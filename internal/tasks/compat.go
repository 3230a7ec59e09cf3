package tasks

import (
	"context"

	api "taskapi/gen/api"
)

// The Phase II routes (/api/{user_id}/tasks...), deprecated, kept for the frontends that
// call them. They are the task operations above with the user in the path: a path user that
// is not the caller is a 404, the same 404 as a missing task, whether that user exists or not.

const compatMaxList = 100

// compatUser is the caller, provided the path names them.
func compatUser(ctx context.Context, pathUser string) (string, error) {
	user, err := userID(ctx)
	if err != nil {
		return "", err
	}
	if pathUser != user {
		return "", ErrNotFound
	}
	return user, nil
}

// CompatListTasks returns the caller's first tasks as a plain array.
func (s *Service) CompatListTasks(ctx context.Context, req api.CompatListTasksRequestObject) (api.CompatListTasksResponseObject, error) {
	user, err := compatUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	limit := compatMaxList
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	page, err := s.list(ctx, user, api.ListTasksParams{Status: req.Params.Status, Sort: req.Params.Sort, Limit: &limit})
	if err != nil {
		return nil, err
	}
	items := make([]api.Task, len(page.rows))
	for i, row := range page.rows {
		items[i] = ToAPI(row)
	}
	return api.CompatListTasks200JSONResponse{Body: items}, nil
}

// CompatCreateTask is CreateTask.
func (s *Service) CompatCreateTask(ctx context.Context, req api.CompatCreateTaskRequestObject) (api.CompatCreateTaskResponseObject, error) {
	user, err := compatUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	in, err := readInput(req.Body)
	if err != nil {
		return nil, err
	}
	row, err := s.insert(ctx, s.queries, user, in)
	if err != nil {
		return nil, err
	}
	return api.CompatCreateTask201JSONResponse{Body: ToAPI(row), Headers: api.CompatCreateTask201ResponseHeaders{
		Location: location(row.ID), ETag: etag(row.Version)}}, nil
}

// CompatGetTask is GetTask.
func (s *Service) CompatGetTask(ctx context.Context, req api.CompatGetTaskRequestObject) (api.CompatGetTaskResponseObject, error) {
	user, err := compatUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	row, err := s.get(ctx, user, req.Id)
	if err != nil {
		return nil, err
	}
	return api.CompatGetTask200JSONResponse{Body: ToAPI(row), Headers: api.CompatGetTask200ResponseHeaders{ETag: etag(row.Version)}}, nil
}

// CompatReplaceTask is ReplaceTask, unconditionally.
func (s *Service) CompatReplaceTask(ctx context.Context, req api.CompatReplaceTaskRequestObject) (api.CompatReplaceTaskResponseObject, error) {
	user, err := compatUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	params, err := readPatch(req.Body, user, req.Id)
	if err != nil {
		return nil, err
	}
	w, err := s.update(ctx, params)
	if err != nil {
		return nil, err
	}
	return api.CompatReplaceTask200JSONResponse{Body: ToAPI(w.row), Headers: api.CompatReplaceTask200ResponseHeaders{ETag: etag(w.row.Version), Link: w.link()}}, nil
}

// CompatDeleteTask is DeleteTask, unconditionally.
func (s *Service) CompatDeleteTask(ctx context.Context, req api.CompatDeleteTaskRequestObject) (api.CompatDeleteTaskResponseObject, error) {
	user, err := compatUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	if err := s.delete(ctx, user, req.Id, nil); err != nil {
		return nil, err
	}
	return api.CompatDeleteTask204Response{}, nil
}

// CompatToggleTask flips completed in one statement.
func (s *Service) CompatToggleTask(ctx context.Context, req api.CompatToggleTaskRequestObject) (api.CompatToggleTaskResponseObject, error) {
	user, err := compatUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	w, err := s.toggle(ctx, user, req.Id, ifMatch(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.CompatToggleTask200JSONResponse{Body: ToAPI(w.row), Headers: api.CompatToggleTask200ResponseHeaders{ETag: etag(w.row.Version), Link: w.link()}}, nil
}

// ToggleTask is CompatToggleTask on the route without the user in the path.
func (s *Service) ToggleTask(ctx context.Context, req api.ToggleTaskRequestObject) (api.ToggleTaskResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.toggle(ctx, user, req.Id, ifMatch(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.ToggleTask200JSONResponse{Body: ToAPI(w.row), Headers: api.ToggleTask200ResponseHeaders{ETag: etag(w.row.Version), Link: w.link()}}, nil
}
